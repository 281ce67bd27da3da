import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MANIFEST_TTL_MS,
  FINISHED_MANIFEST_TTL_MS,
  freshness,
  isoDurationSeconds,
  objectKind,
  parseCacheControl,
} from '../../main/edge/edge-freshness.js';

const live = (target: number) =>
  `#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:${target}\n#EXT-X-MEDIA-SEQUENCE:5\n#EXTINF:${target},\ns5.ts\n`;

describe('edge freshness', () => {
  it('tells playlists and manifests from immutable objects', () => {
    expect(objectKind('/a/b.m3u8', undefined)).toBe('hls');
    expect(objectKind('/a/playlist', 'application/vnd.apple.mpegurl')).toBe('hls');
    expect(objectKind('/a/b.m3u8?_HLS_msn=4', 'application/x-mpegURL')).toBe('hls');
    expect(objectKind('/a/manifest.mpd', 'application/xml')).toBe('dash');
    expect(objectKind('/a/x', 'application/dash+xml')).toBe('dash');
    expect(objectKind('/a/seg-5.ts', 'video/mp2t')).toBe('immutable');
    expect(objectKind('/a/init.mp4', 'video/mp4')).toBe('immutable');
  });

  it('keeps a live playlist half its target duration, stale for two more', () => {
    expect(freshness('hls', live(4), undefined)).toEqual({ ttlMs: 2000, staleMs: 8000 });
    expect(freshness('hls', live(1), undefined)).toEqual({ ttlMs: 500, staleMs: 2000 });
  });

  it("never longer than upstream's max-age (s-maxage first), and not at all when told not to", () => {
    expect(freshness('hls', live(6), 'public, max-age=1').ttlMs).toBe(1000);
    expect(freshness('hls', live(6), 'max-age=60').ttlMs).toBe(3000);
    expect(freshness('hls', live(6), 'max-age=10, s-maxage=0').ttlMs).toBe(0);
    expect(freshness('hls', live(6), 'no-store')).toEqual({ ttlMs: 0, staleMs: 0 });
    expect(freshness('hls', live(6), 'private, max-age=5')).toEqual({ ttlMs: 0, staleMs: 0 });
  });

  it('uses a small default for a master playlist and a long one for a finished playlist', () => {
    expect(freshness('hls', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n', undefined).ttlMs).toBe(
      DEFAULT_MANIFEST_TTL_MS,
    );
    expect(freshness('hls', `${live(2)}#EXT-X-ENDLIST\n`, undefined).ttlMs).toBe(FINISHED_MANIFEST_TTL_MS);
    expect(freshness('hls', `${live(2)}#EXT-X-ENDLIST\n`, 'max-age=3').ttlMs).toBe(3000);
  });

  it('keeps a dynamic MPD half its minimumUpdatePeriod', () => {
    const mpd = (attrs: string) =>
      `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attrs}>\n</MPD>`;
    expect(freshness('dash', mpd('type="dynamic" minimumUpdatePeriod="PT4S"'), undefined)).toEqual({
      ttlMs: 2000,
      staleMs: 8000,
    });
    expect(freshness('dash', mpd('type="dynamic"'), undefined).ttlMs).toBe(DEFAULT_MANIFEST_TTL_MS);
    expect(freshness('dash', mpd('type="static"'), undefined).ttlMs).toBe(FINISHED_MANIFEST_TTL_MS);
  });

  it('keeps immutable objects until evicted, unless told not to', () => {
    expect(freshness('immutable', undefined, 'max-age=31536000, immutable').ttlMs).toBe(Infinity);
    expect(freshness('immutable', undefined, undefined).ttlMs).toBe(Infinity);
    expect(freshness('immutable', undefined, 'no-store').ttlMs).toBe(0);
  });

  it('reads Cache-Control and ISO durations', () => {
    expect(parseCacheControl('max-age="5"')).toEqual({ maxAge: 5, noStore: false });
    expect(parseCacheControl(undefined)).toEqual({ noStore: false });
    expect(isoDurationSeconds('PT2S')).toBe(2);
    expect(isoDurationSeconds('PT1M0.5S')).toBe(60.5);
    expect(isoDurationSeconds('P1DT1H')).toBe(90000);
    expect(isoDurationSeconds('2s')).toBeUndefined();
  });
});
