/** The origin's memory: fragment bytes bounded in size (LRU), manifests valid for one index state. */
import { describe, expect, it } from 'vitest';
import { FragmentCache } from '../../main/origin/fragment-cache.js';
import { MAX_AGE_MS, ManifestCache } from '../../main/origin/manifest-cache.js';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('fragment cache', () => {
  it('keeps the most recently used files within its budget', () => {
    const c = new FragmentCache(100);
    c.set('/o/a/1.m4s', bytes(20));
    c.set('/o/a/2.m4s', bytes(20));
    c.set('/o/a/3.m4s', bytes(20));
    expect(c.get('/o/a/1.m4s')).toBeDefined(); // 1 is now the most recent
    c.set('/o/a/4.m4s', bytes(20));
    c.set('/o/a/5.m4s', bytes(20));
    c.set('/o/a/6.m4s', bytes(20)); // 120 > 100: the least recently used (2) goes
    expect(c.get('/o/a/2.m4s')).toBeUndefined();
    expect(c.get('/o/a/1.m4s')).toBeDefined();
    expect(c.bytes).toBeLessThanOrEqual(100);
  });

  it('a rewritten file replaces its entry; deleted files and directories leave', () => {
    const c = new FragmentCache(1000);
    c.set('/o/a/t/init.mp4', bytes(10, 1));
    c.set('/o/a/t/init.mp4', bytes(12, 2));
    expect(c.get('/o/a/t/init.mp4')?.[0]).toBe(2);
    expect(c.bytes).toBe(12);
    c.set('/o/a/t/1.m4s', bytes(5));
    c.set('/o/ab/t/1.m4s', bytes(5));
    c.delete('/o/a/t/1.m4s');
    expect(c.get('/o/a/t/1.m4s')).toBeUndefined();
    c.deleteUnder('/o/a');
    expect(c.get('/o/a/t/init.mp4')).toBeUndefined();
    expect(c.get('/o/ab/t/1.m4s')).toBeDefined();
    expect(c.bytes).toBe(5);
  });

  it('skips files too large for it, and a budget of 0 turns it off', () => {
    const c = new FragmentCache(100);
    c.set('/big', bytes(40));
    expect(c.get('/big')).toBeUndefined();
    c.set('/small', bytes(10));
    c.setBudget(0);
    expect(c.count).toBe(0);
    c.set('/small', bytes(1));
    expect(c.count).toBe(0);
  });
});

describe('manifest cache', () => {
  const m = { type: 'application/vnd.apple.mpegurl', cacheControl: 'public, max-age=1', body: '#EXTM3U\n' };

  it('answers only for the index state it was rendered at, and not for long', () => {
    const c = new ManifestCache();
    c.set('open /a.isml/.m3u8', 7, m, 1000);
    expect(c.get('open /a.isml/.m3u8', 7, 1000)).toMatchObject(m);
    expect(c.get('open /a.isml/.m3u8', 8, 1000)).toBeUndefined();
    c.set('open /a.isml/.m3u8', 8, m, 1000);
    expect(c.get('open /a.isml/.m3u8', 8, 1000 + MAX_AGE_MS + 1)).toBeUndefined();
    expect(c.count).toBe(0);
  });

  it('is bounded in bytes', () => {
    const c = new ManifestCache(8000);
    for (let i = 0; i < 100; i++) c.set(`k${i}`, 1, { ...m, body: 'x'.repeat(900) }, 0);
    expect(c.count).toBeLessThanOrEqual(9);
    expect(c.get('k99', 1, 0)).toBeDefined();
    expect(c.get('k0', 1, 0)).toBeUndefined();
  });
});
