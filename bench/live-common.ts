/** Shared bits of the live figures: a channel with an encoder on it, torn down cleanly. */
import {
  createChannel,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../test/helpers/appliance.js';
import { ffmpegUrl, publish, type Publisher } from '../test/helpers/encoder.js';

/** The live source: what a 720p30 event encoder sends (veryfast, zerolatency, 2 s GOP, AAC 128k). */
export const LIVE_SOURCE = { size: '1280x720', rate: 30 } as const;

export interface LiveSession {
  channel: ChannelJson;
  publisher: Publisher;
  /** Date.now() just before the encoder was spawned. */
  spawnedAtWall: number;
  /** performance.now() just before the encoder was spawned. */
  spawnedAt: number;
}

export async function startLive(a: RunningAppliance, name: string, seconds: number): Promise<LiveSession> {
  const channel = await createChannel(a, name);
  const url = ffmpegUrl(channel.broadcastUrl, channel.streamName);
  const spawnedAtWall = Date.now();
  const spawnedAt = performance.now();
  const publisher = publish(url, { seconds, ...LIVE_SOURCE });
  return { channel, publisher, spawnedAtWall, spawnedAt };
}

/** Throws when the encoder has already exited (a measurement that cannot succeed any more). */
export function assertPublishing(s: LiveSession): void {
  const p = s.publisher.proc;
  if (p.exitCode !== null || p.signalCode !== null)
    throw new Error(`the encoder exited early (${p.exitCode ?? p.signalCode})`);
}

export interface ChannelEventJson {
  at: string;
  level: string;
  code: string;
  message: string;
}

export async function channelEvents(a: RunningAppliance, entryId: string): Promise<ChannelEventJson[]> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}/events`);
  if (r.status !== 200) throw new Error(`events of ${entryId}: ${r.status}`);
  return ((await r.json()) as { events: ChannelEventJson[] }).events;
}

export interface ChannelStats {
  state: string;
  statistics: Array<{
    streamName: string;
    fps: number;
    speed: number | null;
    dropFrames: number;
    restarts: number;
  }>;
}

export async function channelStats(a: RunningAppliance, entryId: string): Promise<ChannelStats> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}`);
  if (r.status !== 200) throw new Error(`channel ${entryId}: ${r.status}`);
  return (await r.json()) as ChannelStats;
}

/** Stops the encoder, waits until the appliance has stopped the channel, then deletes it. */
export async function endLive(a: RunningAppliance, s: LiveSession): Promise<ChannelEventJson[]> {
  await s.publisher.stop();
  await waitFor(
    'channel stopped',
    async () => {
      const { state } = await channelStats(a, s.channel.entryId);
      return state === 'stopped' || state === 'idle';
    },
    20_000,
    100,
  );
  const events = await channelEvents(a, s.channel.entryId);
  const r = await a.api('DELETE', `/api/v1/channels/${s.channel.entryId}`);
  if (r.status !== 200) throw new Error(`delete channel: ${r.status} ${await r.text()}`);
  return events;
}

/** Seconds from the encoder spawn to the first event with `code`, if there is one. */
export function eventDelay(
  events: readonly ChannelEventJson[],
  code: string,
  s: LiveSession,
): number | undefined {
  const times = events.filter((e) => e.code === code).map((e) => Date.parse(e.at));
  if (times.length === 0) return undefined;
  return (Math.min(...times) - s.spawnedAtWall) / 1000;
}
