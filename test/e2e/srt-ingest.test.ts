/**
 * SRT ingest beside RTMP: ffmpeg publishes MPEG-TS over SRT (caller mode) with the channel's Kaltura stream id
 * and passphrase, through a UDP relay that loses 5% of the datagrams each way; the ladder plays in hls.js; a
 * wrong passphrase, a wrong stream id and a wrong token are refused with their reasons; SRT primary with an RTMP
 * backup fails over; SRT's statistics reach the channel's ingest view and /metrics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { ensureDashboardBuilt, openDashboard, until } from '../helpers/dashboard.js';
import { ffmpegUrl } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';
import { freeUdpPort, publishSrt, startLossyRelay } from '../helpers/srt.js';

const srtPort = await freeUdpPort();
test.override('applianceOptions', async () => {
  await ensureDashboardBuilt();
  // Past the first-run wizard: the dashboard opens on the channels.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-e2e-srt-'));
  fs.writeFileSync(path.join(dataDir, 'settings.json'), '{}\n', { mode: 0o600 });
  return { dataDir, extraArgs: ['--srt-port', String(srtPort), '--fragment-duration', '2'] };
});

interface SrtChannel extends ChannelJson {
  srt: {
    url: string;
    streamId: string;
    backupStreamId: string;
    plainStreamId: string;
    passphrase: string;
    latencyMs: number;
  };
}

interface IngestJson {
  role: string;
  feeding: boolean;
  remote: string;
  transport?: string;
  srt?: { rttMs: number; packetsReceived: number; packetsLost: number; packetsRetransmitted: number };
}

async function channel(a: RunningAppliance, c: ChannelJson): Promise<SrtChannel & { ingests: IngestJson[] }> {
  return (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as SrtChannel & {
    ingests: IngestJson[];
  };
}

async function events(
  a: RunningAppliance,
  entryId: string,
): Promise<Array<{ code: string; message: string }>> {
  return (
    (await (await a.api('GET', `/api/v1/channels/${entryId}/events`)).json()) as {
      events: Array<{ code: string; message: string }>;
    }
  ).events;
}

describe('SRT ingest', () => {
  test('the channel shows its SRT URL, stream ids and passphrase; status says SRT listens', async ({
    appliance: a,
  }) => {
    const c = (await createChannel(a, 'srt fields')) as SrtChannel;
    expect(c.srt.url).toBe(`srt://127.0.0.1:${srtPort}`);
    expect(c.srt.streamId).toBe(`#:::e=${c.entryId},st=0,p=${c.token}`);
    expect(c.srt.backupStreamId).toBe(`#:::e=${c.entryId},st=1,p=${c.token}`);
    expect(c.srt.plainStreamId).toBe(`${c.entryId}_1`);
    expect(c.srt.passphrase).toMatch(/^[0-9a-z]{24}$/);
    const status = (await (await a.api('GET', '/api/v1/status')).json()) as {
      srt?: { listening: boolean; port: number };
    };
    expect(status.srt).toMatchObject({ listening: true, port: srtPort });

    // Latency per channel, validated; a new passphrase on request.
    const bad = await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { srtLatencyMs: 5 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /srtLatencyMs: at least 20 ms/,
    );
    const ok = await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { srtLatencyMs: 800 });
    expect(((await ok.json()) as SrtChannel).srt.latencyMs).toBe(800);
    const rotated = (await (
      await a.api('POST', `/api/v1/channels/${c.entryId}/srt-passphrase`)
    ).json()) as SrtChannel;
    expect(rotated.srt.passphrase).not.toBe(c.srt.passphrase);
  });

  test('the dashboard has an SRT tab: URL, stream id and passphrase masked until Show, one ffmpeg command', async ({
    appliance: a,
    browser,
  }) => {
    const c = (await createChannel(a, 'srt tab')) as SrtChannel;
    const d = await openDashboard(browser, `${a.admin}/#/channels/${encodeURIComponent(c.entryId)}`);
    const p = d.page;
    try {
      await p.getByLabel('Admin token', { exact: true }).fill(a.token);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await until(d, 'the SRT tab', async () => (await p.getByRole('tab', { name: 'SRT' }).count()) > 0);
      await p.getByRole('tab', { name: 'SRT' }).click();
      expect(await p.getByTestId('srt-url').inputValue()).toBe(`srt://127.0.0.1:${srtPort}`);
      expect(await p.getByTestId('srt-stream-id').inputValue()).toBe(`#:::e=${c.entryId},st=0,p=••••••`);
      expect(await p.getByTestId('srt-passphrase').inputValue()).toBe('••••••');
      const command = await p.getByTestId('srt-ffmpeg-command').inputValue();
      expect(command).toMatch(
        /-f mpegts -srt_streamid '#:::e=.*' -passphrase '••••••' 'srt:\/\/127\.0\.0\.1:\d+\?latency=/,
      );
      expect(command).not.toContain(c.token);
      await p.getByTestId('srt-settings').getByRole('button', { name: 'Show' }).nth(1).click();
      expect(await p.getByTestId('srt-passphrase').inputValue()).toBe(c.srt.passphrase);
    } finally {
      await p.close();
    }
  });

  test('publishes through a link that loses 5% of its packets; the ladder plays in hls.js for 30 s', async ({
    appliance: a,
    players,
    browser,
  }) => {
    const c = (await createChannel(a, 'srt lossy')) as SrtChannel;
    const relay = await startLossyRelay(srtPort, 0.05);
    try {
      const encoder = publishSrt(relay.port, {
        streamId: c.srt.streamId,
        passphrase: c.srt.passphrase,
        latencyMs: 500,
        seconds: 90,
        size: '1280x720',
        gop: 60,
      });
      try {
        await waitFor(
          'the SRT ingest feeding',
          async () => (await channel(a, c)).ingests.some((i) => i.feeding && i.transport === 'srt'),
          30_000,
        );
        await waitFor('the live playlist', async () => (await fetch(c.playback.hls)).status === 200, 30_000);
        const player = await players.open(browser, c.playback.hls);
        const first = await player.until('playback to start', (s) => !s.paused && s.currentTime > 0, 40_000);
        const later = await player.until(
          'playback to run 30 s',
          (s) => s.currentTime - first.currentTime >= 30,
          60_000,
        );
        expect(
          later.errors.filter((e) => e.fatal),
          player.describe(later),
        ).toEqual([]);
        expect(later.errors.filter((e) => /decode|media/i.test(`${e.type} ${e.details}`))).toEqual([]);
        expect(later.levels.length, player.describe(later)).toBeGreaterThanOrEqual(3);

        // SRT saw the losses and recovered them; its statistics are on the ingest and in /metrics.
        const ingest = (await channel(a, c)).ingests.find((i) => i.transport === 'srt');
        expect(relay.dropped).toBeGreaterThan(0);
        expect(ingest?.srt?.packetsReceived).toBeGreaterThan(1000);
        expect(ingest?.srt?.packetsLost).toBeGreaterThan(0);
        expect(ingest?.srt?.packetsRetransmitted).toBeGreaterThan(0);
        const metrics = await (await a.api('GET', '/metrics')).text();
        expect(metrics).toMatch(
          new RegExp(`ecdn_srt_packets_lost\\{entry="${c.entryId}",role="primary"\\} [1-9]`),
        );
        expect(metrics).toMatch(new RegExp(`ecdn_srt_rtt_ms\\{entry="${c.entryId}",role="primary"\\}`));
      } finally {
        await encoder.stop();
      }
    } finally {
      await relay.close();
    }
  });

  test('a wrong passphrase, a wrong stream id and a wrong token are refused, with their reasons', async ({
    appliance: a,
  }) => {
    const c = (await createChannel(a, 'srt refusals')) as SrtChannel;
    const t0 = Date.now();
    const wrongPass = publishSrt(srtPort, {
      streamId: c.srt.streamId,
      passphrase: 'not-the-passphrase',
      seconds: 10,
    });
    expect((await wrongPass.done).code).not.toBe(0);
    const refused = await waitFor(
      'the wrong passphrase on the channel events',
      async () => (await events(a, c.entryId)).find((e) => e.code === 'SRT_WRONG_PASSPHRASE'),
      10_000,
    );
    expect(refused.message).toMatch(/Wrong or missing SRT passphrase/);
    const last = (
      (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as {
        lastPublish?: { accepted: boolean; transport: string; code: string; fix: string };
      }
    ).lastPublish;
    expect(last).toMatchObject({ accepted: false, transport: 'srt', code: 'SRT_WRONG_PASSPHRASE' });
    expect(last?.fix).toMatch(/copy the SRT passphrase again/);
    expect(Date.now() - t0).toBeLessThan(3000 + 2000); // refused at the handshake; said within 1.5 s of it

    const wrongId = publishSrt(srtPort, {
      streamId: 'not-a-stream-id',
      passphrase: c.srt.passphrase,
      seconds: 10,
    });
    expect((await wrongId.done).code).not.toBe(0);
    const listed = await waitFor(
      'the wrong stream id in the refused publishes',
      async () => {
        const r = (await (await a.api('GET', '/api/v1/ingest/refusals')).json()) as {
          refusals: Array<{ code: string; message: string; streamName: string }>;
        };
        return r.refusals.find((x) => x.code === 'INVALID_STREAM_ID' && x.streamName === 'not-a-stream-id');
      },
      5000,
    );
    expect(listed.message).toMatch(/Unrecognised SRT stream id/);

    // An entry with no channel here (standalone): refused before any relay starts, listed with its reason.
    const unknown = publishSrt(srtPort, { streamId: '#:::e=0_zzzzzzzz,st=0,p=x', seconds: 10 });
    expect((await unknown.done).code).not.toBe(0);
    await waitFor(
      'the unknown entry in the refused publishes',
      async () => {
        const r = (await (await a.api('GET', '/api/v1/ingest/refusals')).json()) as {
          refusals: Array<{ code: string; entryId?: string }>;
        };
        return r.refusals.find((x) => x.code === 'ENTRY_ID_NOT_FOUND' && x.entryId === '0_zzzzzzzz');
      },
      5000,
    );
    expect((await a.api('GET', '/api/v1/channels/0_zzzzzzzz')).status).toBe(404);

    const t1 = Date.now();
    const wrongToken = publishSrt(srtPort, {
      streamId: `#:::e=${c.entryId},st=0,p=wrongtoken`,
      passphrase: c.srt.passphrase,
      seconds: 20,
    });
    const done = await wrongToken.done;
    expect(done.code).not.toBe(0);
    expect(Date.now() - t1).toBeLessThan(8000);
    const token = await waitFor(
      'the wrong token on the channel events',
      async () => (await events(a, c.entryId)).find((e) => e.code === 'LIVE_STREAM_INVALID_TOKEN'),
      5000,
    );
    expect(token.message).toMatch(/Invalid token/);
    expect((await channel(a, c)).ingests).toEqual([]);
  });

  test('a plain stream id with the passphrase publishes; SRT primary fails over to an RTMP backup', async ({
    appliance: a,
    publish,
  }) => {
    const c = (await createChannel(a, 'srt failover')) as SrtChannel;
    const primary = publishSrt(srtPort, {
      streamId: c.srt.plainStreamId,
      passphrase: c.srt.passphrase,
      seconds: 120,
      gop: 60,
    });
    try {
      await waitFor(
        'the SRT primary feeding',
        async () =>
          (await channel(a, c)).ingests.some(
            (i) => i.role === 'primary' && i.feeding && i.transport === 'srt',
          ),
        30_000,
      );
      publish(ffmpegUrl(c.backupBroadcastUrl, c.streamName), { seconds: 120, gop: 60 });
      await waitFor('both ingests', async () => (await channel(a, c)).ingests.length === 2, 30_000);
      primary.proc.kill('SIGKILL');
      const after = await waitFor(
        'the RTMP backup feeding',
        async () => {
          const ingests = (await channel(a, c)).ingests;
          return ingests.some((i) => i.role === 'backup' && i.feeding) ? ingests : undefined;
        },
        30_000,
      );
      expect(after.find((i) => i.role === 'backup')?.transport).toBeUndefined();
      expect((await events(a, c.entryId)).map((e) => e.code)).toContain('INGEST_SWITCH');
    } finally {
      await primary.stop();
    }
  });

  test('a killed SRT ingest process is restarted, and SRT publishing works again', async ({
    appliance: a,
  }) => {
    const status = async () =>
      (
        (await (await a.api('GET', '/api/v1/status')).json()) as {
          srt: { pid: number | null; listening: boolean; restarts: number; port: number };
        }
      ).srt;
    const before = await status();
    expect(before.pid).toBeGreaterThan(0);
    process.kill(before.pid as number, 'SIGKILL');
    const after = await waitFor(
      'the SRT child back',
      async () => {
        const s = await status();
        return s.listening && s.restarts === before.restarts + 1 && s.pid !== before.pid ? s : undefined;
      },
      15_000,
    );
    expect(after.port).toBe(srtPort);
    const c = (await createChannel(a, 'srt after restart')) as SrtChannel;
    const encoder = publishSrt(srtPort, {
      streamId: c.srt.streamId,
      passphrase: c.srt.passphrase,
      seconds: 30,
    });
    try {
      await waitFor(
        'the SRT ingest feeding',
        async () => (await channel(a, c)).ingests.some((i) => i.feeding && i.transport === 'srt'),
        30_000,
      );
    } finally {
      await encoder.stop();
    }
  });
});
