import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChannelStore,
  MAX_EVENTS_PER_CHANNEL,
  newEntryId,
  randomBase36,
} from '../../main/channels/channel-store.js';
import { OriginStorage, UnsafePathError } from '../../main/origin/origin-storage.js';
import { SegmentIndex } from '../../main/origin/segment-index.js';
import { migrate, openDatabase } from '../../main/store/database.js';
import { MIGRATIONS } from '../../main/store/migrations.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('database', () => {
  it('opens in WAL mode and applies every migration once', () => {
    const db = openDatabase(tmp());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(migrate(db, MIGRATIONS)).toBe(MIGRATIONS.length);
    db.close();
  });

  it('applies a new numbered migration on the next open and keeps the data', () => {
    const dir = tmp();
    const db = openDatabase(dir);
    new ChannelStore(db).create('kept', 1);
    db.close();
    const next = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, name: 'test', sql: 'CREATE TABLE extra (x INTEGER);' },
    ];
    const db2 = openDatabase(dir, next);
    expect(db2.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    expect(new ChannelStore(db2).list().map((c) => c.name)).toEqual(['kept']);
    db2.close();
  });
});

describe('ChannelStore', () => {
  it('creates entries with Kaltura-shaped ids and keeps their events', () => {
    const db = openDatabase(tmp());
    const store = new ChannelStore(db);
    const c = store.create('Town hall', 7);
    expect(c.entryId).toMatch(/^0_[0-9a-z]{8}$/);
    expect(c.token).toMatch(/^[0-9a-z]{16}$/);
    expect(store.get(c.entryId)).toEqual(c);
    store.addEvent(c.entryId, 'error', 'LIVE_STREAM_INVALID_TOKEN', 'bad token');
    expect(store.events(c.entryId)).toMatchObject([
      { level: 'error', code: 'LIVE_STREAM_INVALID_TOKEN', message: 'bad token' },
    ]);
    expect(store.delete(c.entryId)).toBe(true);
    expect(store.get(c.entryId)).toBeUndefined();
    expect(store.events(c.entryId)).toEqual([]);
    db.close();
  });

  it('draws ids from [0-9a-z] only', () => {
    const s = randomBase36(2000);
    expect(s).toMatch(/^[0-9a-z]{2000}$/);
    expect(new Set(s).size).toBe(36);
    expect(newEntryId()).not.toBe(newEntryId());
  });
});

describe('SegmentIndex', () => {
  it('numbers fragments per track and answers window queries', () => {
    const db = openDatabase(tmp());
    const index = new SegmentIndex(db);
    index.createPublishingPoint('0_abcdefgh', { dvr_window_length: '30' }, 1000);
    const t = index.upsertTrack({
      pp: '0_abcdefgh',
      trackName: 'video_source',
      kind: 'video',
      timescale: 1000,
      codecs: 'avc1.64001e',
      bitrate: null,
      width: 640,
      height: 360,
      frameRate: 30,
      sampleRate: null,
      channels: null,
      audioTrack: 'audio_source',
    });
    for (let i = 0; i < 5; i++)
      index.addFragment({
        trackId: t.id,
        mediaTime: i * 2000,
        duration: 2000,
        utc: 1000 + i * 2000,
        size: 10,
        file: `video_source/${i * 2000}.m4s`,
        discontinuity: false,
        serverIndex: 0,
      });
    expect(index.lastFragment(t.id)).toMatchObject({ sequence: 5, mediaTime: 8000 });
    expect(index.fragmentsEndingAfter(t.id, 5000).map((f) => f.sequence)).toEqual([3, 4, 5]);
    expect(index.fragmentsEndingBefore(t.id, 4000).map((f) => f.sequence)).toEqual([1, 2]);
    expect(index.fragmentByTime(t.id, 6000)?.sequence).toBe(4);
    index.deleteFragments([1, 2].map((s) => (index.fragmentBySequence(t.id, s) as { id: number }).id));
    expect(index.fragmentCount('0_abcdefgh')).toBe(3);
    // A purge that empties the track never makes sequence numbers repeat.
    index.deleteFragments(index.fragmentsEndingAfter(t.id, 0).map((f) => f.id));
    expect(
      index.addFragment({
        trackId: t.id,
        mediaTime: 20_000,
        duration: 2000,
        utc: 21_000,
        size: 10,
        file: 'video_source/20000.m4s',
        discontinuity: true,
        serverIndex: 0,
      }).sequence,
    ).toBe(6);
    index.deletePublishingPoint('0_abcdefgh');
    expect(index.tracks('0_abcdefgh')).toEqual([]);
    db.close();
  });
});

describe('OriginStorage', () => {
  it('keeps every path inside the origin directory', () => {
    const storage = new OriginStorage(tmp());
    expect(storage.resolve('0_abcdefgh', 'video_source/2000.m4s')).toBe(
      path.join(storage.root, '0_abcdefgh', 'video_source', '2000.m4s'),
    );
    for (const bad of [
      '../etc/passwd',
      'video_source/../../x.m4s',
      '/etc/passwd',
      'video_source/2000.m4s/..',
      'a/b/c.m4s',
      'video%2F..%2Fx/1.m4s',
    ]) {
      expect(() => storage.resolve('0_abcdefgh', bad), bad).toThrow(UnsafePathError);
    }
    for (const pp of [
      '..',
      '.',
      '',
      'x'.repeat(129),
      'a%2e%2e',
      '../x',
      'a//b',
      'a/../b',
      '/a',
      'a/',
      'a/b/c/d/e/f/g/h/i',
    ]) {
      expect(() => storage.ppDir(pp), pp).toThrow(UnsafePathError);
    }
    expect(storage.ppDir('events/hall/ch1')).toBe(path.join(storage.root, 'events', 'hall', 'ch1'));
  });
});

describe('channel events', () => {
  it('count a repeat on one row (first and last time), and keep a bounded number per channel', () => {
    const db = openDatabase(tmp());
    try {
      const channels = new ChannelStore(db);
      const c = channels.create('repeats', 1);
      const t0 = Date.UTC(2026, 0, 1);
      const first = channels.addEvent(c.entryId, 'error', 'LIVE_STREAM_INVALID_TOKEN', 'wrong token', t0);
      const again = channels.addEvent(
        c.entryId,
        'error',
        'LIVE_STREAM_INVALID_TOKEN',
        'wrong token',
        t0 + 5_000,
      );
      expect(again).toMatchObject({ id: first.id, count: 2, firstAt: t0, at: t0 + 5_000 });
      // Something else in between, or a repeat much later, is a new row.
      channels.addEvent(c.entryId, 'info', 'PUBLISH_STARTED', 'ok', t0 + 6_000);
      const third = channels.addEvent(
        c.entryId,
        'error',
        'LIVE_STREAM_INVALID_TOKEN',
        'wrong token',
        t0 + 7_000,
      );
      expect(third.id).not.toBe(first.id);
      const late = channels.addEvent(
        c.entryId,
        'error',
        'LIVE_STREAM_INVALID_TOKEN',
        'wrong token',
        t0 + 3_600_000,
      );
      expect(late.id).not.toBe(third.id);
      expect(channels.events(c.entryId).map((e) => e.count)).toEqual([2, 1, 1, 1]);
      for (let i = 0; i < MAX_EVENTS_PER_CHANNEL + 100; i++)
        channels.addEvent(c.entryId, 'info', 'STEP', `step ${i}`, t0 + 4_000_000 + i);
      const n = (
        db.prepare('SELECT COUNT(*) AS n FROM events WHERE entry_id = ?').get(c.entryId) as { n: number }
      ).n;
      expect(n).toBe(MAX_EVENTS_PER_CHANNEL);
    } finally {
      db.close();
    }
  });
});
