import { describe, expect, it } from 'vitest';
import { PREVIEW_QUERY } from '../../main/contract/contract.js';
import {
  MAX_NAMED_PLAYERS_PER_ADDRESS,
  MAX_PLAYERS_PER_ADDRESS,
  ViewerStats,
} from '../../main/origin/viewer-stats.js';

/** A request as the origin listener passes it. */
const req = (url: string, headers: Record<string, string> = {}, remoteAddress = '10.0.0.1') => ({
  url,
  headers,
  socket: { remoteAddress },
});

describe('ViewerStats', () => {
  it('counts distinct clients within the last 30 s, bytes, and requests per rendition, per minute', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const s = new ViewerStats({}, () => now);
    s.record('0_a', 'manifest', '10.0.0.1', 'hls.js', 500);
    s.record('0_a', 'video_source', '10.0.0.1', 'hls.js', 100_000);
    s.record('0_a', 'video_source', '10.0.0.2', 'hls.js', 100_000);
    s.record('0_a', 'video_360', '10.0.0.2', 'Safari', 50_000); // same address, another player
    s.record('0_b', 'manifest', '10.0.0.9', 'x', 10);
    expect(s.snapshot('0_a')).toMatchObject({
      viewers: 3,
      bytesServed: 250_500,
      requestsByRendition: { manifest: 1, video_source: 2, video_360: 1 },
    });
    now += 20_000;
    s.record('0_a', 'video_source', '10.0.0.1', 'hls.js', 100_000);
    now += 15_000; // the other two went quiet 35 s ago
    expect(s.snapshot('0_a').viewers).toBe(1);
    now += 60_000;
    expect(s.snapshot('0_a').viewers).toBe(0);
    const series = s.snapshot('0_a').series;
    expect(series[0]).toMatchObject({
      at: '2026-01-01T12:00:00.000Z',
      viewers: 3,
      requests: 5,
      bytes: 350_500,
    });
    expect(series[series.length - 1]?.viewers).toBe(0);
    expect(s.snapshot('0_none')).toMatchObject({
      viewers: 0,
      bytesServed: 0,
      peakViewers: 0,
      uniqueViewers: 0,
      edges: [],
      requestsByRendition: {},
      series: [],
    });
    expect(s.channelNames().sort()).toEqual(['0_a', '0_b']);
  });

  it('counts at most a few players behind one address, however often a client changes its user agent', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const s = new ViewerStats({}, () => now);
    for (let i = 0; i < 500; i++) s.record('0_a', 'video_source', '10.0.0.66', `agent-${i}`, 1000);
    s.record('0_a', 'video_source', '10.0.0.7', 'hls.js', 1000);
    expect(s.snapshot('0_a').viewers).toBe(MAX_PLAYERS_PER_ADDRESS + 1 + 1);
    now += 40_000;
    s.sweep();
    expect(s.snapshot('0_a').viewers).toBe(0);
  });

  it("leaves out the dashboard's preview and requests with credentials", () => {
    const s = new ViewerStats({}, () => Date.UTC(2026, 0, 1));
    const pp = '0_a';
    s.record(pp, 'manifest', '10.0.0.1', 'Chrome', 500, req(`/0_a/0_a.isml/.m3u8?${PREVIEW_QUERY}=1`));
    s.record(
      pp,
      'video_source',
      '10.0.0.1',
      'Chrome',
      9000,
      req(`/x/video_source/n1.m4s?exp=1&${PREVIEW_QUERY}=1`),
    );
    s.record(
      pp,
      'manifest',
      '10.0.0.2',
      'curl',
      500,
      req('/0_a/0_a.isml/.m3u8', { authorization: 'Bearer t' }),
    );
    expect(s.totals(pp)).toMatchObject({ viewers: 0, bytesServed: 0, uniqueViewers: 0 });
    // The same browser as a viewer (no preview parameter) counts.
    s.record(pp, 'manifest', '10.0.0.1', 'Chrome', 500, req('/0_a/0_a.isml/.m3u8?ecdn_preview=0'));
    expect(s.totals(pp)).toMatchObject({ viewers: 1, bytesServed: 500 });
  });

  it('keeps the peak with its time and the distinct viewers of the event', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const s = new ViewerStats({}, () => now);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) s.record('0_a', 'manifest', a, 'hls.js', 1);
    const peakAt = new Date(now).toISOString();
    now += 40_000;
    s.sweep();
    s.record('0_a', 'manifest', '10.0.0.4', 'hls.js', 1);
    s.record('0_a', 'manifest', '10.0.0.1', 'hls.js', 1); // back again: not a new unique viewer
    expect(s.totals('0_a')).toMatchObject({
      viewers: 2,
      peakViewers: 3,
      peakAt,
      uniqueViewers: 4,
      viewersSince: '2026-01-01T12:00:00.000Z',
    });
  });

  it('tells named players apart behind one address, and notes the edge in front', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const s = new ViewerStats({}, () => now);
    // Ten portal players in the same browser build behind one NAT address: same user agent, own ids.
    for (let i = 0; i < 10; i++)
      s.record(
        '0_a',
        'manifest',
        '10.9.0.1',
        'Chrome',
        1,
        req('/m', { 'x-ecdn-player': `player-${i}-abcdef` }),
      );
    // The same user agent without an id is one player; a malformed id falls back to the user agent.
    s.record('0_a', 'manifest', '10.9.0.1', 'Chrome', 1, req('/m'));
    s.record('0_a', 'manifest', '10.9.0.1', 'Chrome', 1, req('/m', { 'x-ecdn-player': 'bad id!' }));
    expect(s.totals('0_a').viewers).toBe(11);
    for (let i = 0; i < 200; i++)
      s.record(
        '0_a',
        'manifest',
        '10.9.0.2',
        'Chrome',
        1,
        req('/m', { 'x-ecdn-player': `flood-${i}-abcdef` }),
      );
    expect(s.totals('0_a').viewers).toBe(11 + MAX_NAMED_PLAYERS_PER_ADDRESS + 1);
    expect(s.totals('0_a').edges).toEqual([]);
    s.record(
      '0_a',
      'manifest',
      '10.1.1.1',
      'nginx',
      1,
      req('/m', { 'x-forwarded-for': '10.1.2.3' }, '::ffff:10.0.0.7'),
    );
    expect(s.totals('0_a').edges).toEqual(['10.0.0.7']);
    now += 40_000;
    s.sweep();
    expect(s.totals('0_a').edges).toEqual([]);
  });
});
