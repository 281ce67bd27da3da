/**
 * First playable: seconds from the encoder's spawn until the master playlist answers 200 and the first
 * fragment of the first video media playlist it lists answers 200, polled every 50 ms.
 */
import type { RunningAppliance } from '../test/helpers/appliance.js';
import { firstVariantUrl, parseMediaPlaylist } from './lib/hls.js';
import { sleep } from './lib/stats.js';
import { assertPublishing, endLive, eventDelay, startLive, type LiveSession } from './live-common.js';

export interface FirstPlayableRun {
  entryId: string;
  /** Encoder spawn -> master 200 and first fragment 200. */
  seconds: number;
  /** Encoder spawn -> first master 200. */
  masterSeconds: number;
  /** Encoder spawn -> the appliance accepted the publish (PUBLISH_STARTED event, appliance clock). */
  publishStartedSeconds?: number;
  /** Encoder spawn -> transcoder spawned (TRANSCODE_STARTED event). */
  transcodeStartedSeconds?: number;
  variantUrl: string;
  fragmentUrl: string;
  polls: number;
}

const POLL_MS = 50;
const TIMEOUT_MS = 25_000;

async function status(url: string): Promise<{ status: number; text: string }> {
  const r = await fetch(url);
  const text = await r.text();
  return { status: r.status, text: r.status === 200 ? text : '' };
}

async function waitPlayable(s: LiveSession): Promise<Omit<FirstPlayableRun, 'entryId'>> {
  const masterUrl = s.channel.playback.hls;
  let masterAt: number | undefined;
  let polls = 0;
  for (;;) {
    polls++;
    const elapsed = performance.now() - s.spawnedAt;
    if (elapsed > TIMEOUT_MS) throw new Error(`not playable after ${TIMEOUT_MS / 1000} s (${masterUrl})`);
    assertPublishing(s);
    const master = await status(masterUrl);
    if (master.status === 200) {
      masterAt ??= performance.now();
      const variantUrl = firstVariantUrl(master.text, masterUrl);
      if (!variantUrl) throw new Error(`master playlist without a variant:\n${master.text}`);
      const media = await status(variantUrl);
      const first = media.status === 200 ? parseMediaPlaylist(media.text, variantUrl)[0] : undefined;
      if (first) {
        const fragment = await fetch(first.url);
        await fragment.arrayBuffer();
        if (fragment.status === 200) {
          const now = performance.now();
          return {
            seconds: (now - s.spawnedAt) / 1000,
            masterSeconds: (masterAt - s.spawnedAt) / 1000,
            variantUrl,
            fragmentUrl: first.url,
            polls,
          };
        }
      }
    }
    await sleep(POLL_MS);
  }
}

/** One run on a new channel; the encoder is stopped and the channel deleted afterwards. */
export async function measureFirstPlayable(a: RunningAppliance, run: number): Promise<FirstPlayableRun> {
  const s = await startLive(a, `bench first playable ${run}`, 40);
  let result: Omit<FirstPlayableRun, 'entryId'>;
  try {
    result = await waitPlayable(s);
  } catch (err) {
    await s.publisher.stop();
    throw err;
  }
  const events = await endLive(a, s);
  const publishStartedSeconds = eventDelay(events, 'PUBLISH_STARTED', s);
  const transcodeStartedSeconds = eventDelay(events, 'TRANSCODE_STARTED', s);
  return {
    entryId: s.channel.entryId,
    ...result,
    ...(publishStartedSeconds !== undefined ? { publishStartedSeconds } : {}),
    ...(transcodeStartedSeconds !== undefined ? { transcodeStartedSeconds } : {}),
  };
}
