/**
 * Live-edge latency: while a 720p30 stream publishes, the media playlists are polled once a second; each
 * poll gives wall clock minus the end of the newest fragment (its EXT-X-PROGRAM-DATE-TIME + EXTINF).
 * PDT is the encoder's RTMP clock mapped onto the appliance's clock at ingest (the least-delayed packet), so
 * this is how long after the media reached the appliance the origin lists it, not glass-to-glass latency.
 */
import { waitFor, type RunningAppliance } from '../test/helpers/appliance.js';
import { parseMediaPlaylist } from './lib/hls.js';
import { median, sleep } from './lib/stats.js';
import {
  assertPublishing,
  channelStats,
  endLive,
  startLive,
  type ChannelStats,
  type LiveSession,
} from './live-common.js';

export interface EdgeSample {
  /** ms after the first poll */
  at: number;
  /** Seconds: wall clock minus (newest fragment's PDT + EXTINF). */
  latency: number;
  segments: number;
  newestDuration: number;
}

export interface LiveEdgeResult {
  entryId: string;
  /** Samples of the target track (video_source). */
  samples: EdgeSample[];
  /** Median latency of every video track polled, by track name. */
  medianByTrack: Record<string, number>;
  maxByTrack: Record<string, number>;
  /** The appliance's own transcoder statistics near the end of the polling. */
  statistics: ChannelStats['statistics'];
  pollSeconds: number;
}

export const EDGE_TRACK = 'video_source';
const TRACKS = [EDGE_TRACK, 'video_720', 'video_360'];
const POLLS = 20;

function trackUrl(s: LiveSession, track: string): string {
  return new URL(`tracks/${track}.m3u8`, s.channel.playback.hls).href;
}

async function poll(url: string): Promise<Omit<EdgeSample, 'at'>> {
  const r = await fetch(url);
  const text = await r.text();
  const now = Date.now();
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  const segments = parseMediaPlaylist(text, url);
  const newest = segments.at(-1);
  if (!newest || newest.pdt === undefined) throw new Error(`${url}: no fragment with a PDT`);
  return {
    latency: (now - (newest.pdt + newest.duration * 1000)) / 1000,
    segments: segments.length,
    newestDuration: newest.duration,
  };
}

export async function measureLiveEdge(a: RunningAppliance): Promise<LiveEdgeResult> {
  // Long enough for the start, POLLS seconds of polling and some slack; stopped right after.
  const s = await startLive(a, 'bench live edge', POLLS + 25);
  try {
    await waitFor(
      'every video track has a fragment',
      async () => {
        assertPublishing(s);
        for (const t of TRACKS) {
          const r = await fetch(trackUrl(s, t));
          const text = await r.text();
          if (r.status !== 200 || parseMediaPlaylist(text, r.url).length === 0) return false;
        }
        return true;
      },
      30_000,
      100,
    );
    const byTrack: Record<string, number[]> = Object.fromEntries(TRACKS.map((t) => [t, []]));
    const samples: EdgeSample[] = [];
    let statistics: ChannelStats['statistics'] = [];
    const start = performance.now();
    for (let i = 0; i < POLLS; i++) {
      await sleep(Math.max(0, start + i * 1000 - performance.now()));
      assertPublishing(s);
      const at = performance.now() - start;
      for (const t of TRACKS) {
        const sample = await poll(trackUrl(s, t));
        byTrack[t]?.push(sample.latency);
        if (t === EDGE_TRACK) samples.push({ at, ...sample });
      }
      if (i === POLLS - 2) statistics = (await channelStats(a, s.channel.entryId)).statistics;
    }
    const pollSeconds = (performance.now() - start) / 1000;
    await endLive(a, s);
    return {
      entryId: s.channel.entryId,
      samples,
      medianByTrack: Object.fromEntries(TRACKS.map((t) => [t, median(byTrack[t] ?? [])])),
      maxByTrack: Object.fromEntries(TRACKS.map((t) => [t, Math.max(...(byTrack[t] ?? []))])),
      statistics,
      pollSeconds,
    };
  } catch (err) {
    await s.publisher.stop();
    throw err;
  }
}
