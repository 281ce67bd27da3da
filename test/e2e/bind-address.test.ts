/**
 * `--bind` to one address (here 127.0.0.2, a loopback address that is not 127.0.0.1): the listeners are only there,
 * so the appliance reaches its own ingest at that address, not at 127.0.0.1, where nothing listens. A transcoder
 * pulls the encoder's stream for its rendition, and an SRT caller is relayed into the RTMP ingest.
 */
import { createChannel, waitFor, type ChannelJson } from '../helpers/appliance.js';
import { describe, expect, test } from '../helpers/fixtures.js';
import { freeUdpPort, publishSrt } from '../helpers/srt.js';

const HOST = '127.0.0.2';
const srtPort = await freeUdpPort();
test.override('applianceOptions', {
  host: HOST,
  extraArgs: ['--srt-port', String(srtPort), '--fragment-duration', '2'],
});
test.override('encoderOptions', { seconds: 12 });

/** Fragments listed by a media playlist, or 0 while it is not there. */
async function fragments(url: string): Promise<number> {
  const r = await fetch(url);
  return r.status === 200 ? ((await r.text()).match(/#EXTINF/g) ?? []).length : 0;
}

describe('an appliance bound to one address', () => {
  test('transcodes what an RTMP encoder publishes there', async ({
    appliance: a,
    liveChannel: channel,
    encoder: _encoder,
  }) => {
    expect(channel.broadcastUrl).toContain(`rtmp://${HOST}:`);
    const base = channel.playback.hls.replace(/\/\.m3u8$/, '/');
    expect(base.startsWith(`http://${HOST}:`)).toBe(true);
    // The transcoded rendition exists only if the transcoder could pull the stream from the ingest.
    await waitFor(
      'a transcoded fragment',
      async () => (await fragments(`${base}tracks/video_360.m3u8`)) >= 1,
      30_000,
    );
    expect(a.stdout()).not.toMatch(/ECONNREFUSED|Connection refused/);
  });

  test('relays an SRT caller into its RTMP ingest', async ({ appliance: a }) => {
    const c = (await createChannel(a, 'srt on one address')) as ChannelJson & {
      srt: { streamId: string; passphrase: string };
    };
    const encoder = publishSrt(srtPort, {
      host: HOST,
      streamId: c.srt.streamId,
      passphrase: c.srt.passphrase,
      seconds: 12,
    });
    try {
      const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
      await waitFor(
        'a fragment from the SRT caller',
        async () => (await fragments(`${base}tracks/video_source.m3u8`)) >= 1,
        30_000,
      );
    } finally {
      await encoder.stop();
    }
  });
});
