import { describe, expect, it } from 'vitest';
import { MAX_PLAYERS_PER_ADDRESS, ViewerStats } from '../../main/origin/viewer-stats.js';

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
    expect(s.snapshot('0_none')).toEqual({ viewers: 0, bytesServed: 0, requestsByRendition: {}, series: [] });
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
});
