/**
 * Every broadcast URL rule, sent by a real ffmpeg encoder: each refusal closes the connection before any
 * media reaches ffmpeg or the origin, and the reason lands in the channel's event list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChannel,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../helpers/appliance.js';
import { publish } from '../helpers/encoder.js';

let a: RunningAppliance;

beforeAll(async () => {
  a = await startAppliance();
});
afterAll(async () => {
  await a?.stop();
});

async function events(entryId: string): Promise<Array<{ code: string; level: string; message: string }>> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}/events`);
  return ((await r.json()) as { events: Array<{ code: string; level: string; message: string }> }).events;
}

function urlWith(c: ChannelJson, change: Record<string, string | null>, streamName = c.streamName): string {
  const u = new URL(c.broadcastUrl);
  const params = new URLSearchParams(u.search);
  for (const [k, v] of Object.entries(change)) {
    if (v === null) params.delete(k);
    else params.set(k, v);
  }
  return `rtmp://${u.host}${u.pathname}?${params.toString()}/${streamName}`;
}

/** Publishes to `url`, expects ffmpeg to be refused, and checks nothing reached the origin. */
async function expectRefused(c: ChannelJson, url: string, code: string): Promise<void> {
  const enc = publish(url, { seconds: 6 });
  const timer = setTimeout(() => enc.proc.kill('SIGKILL'), 15_000);
  const r = await enc.done;
  clearTimeout(timer);
  expect(r.code, r.stderr).not.toBe(0);
  const evs = await waitFor(`event ${code}`, async () => {
    const e = await events(c.entryId);
    return e.some((x) => x.code === code) && e;
  });
  const ev = evs.find((x) => x.code === code);
  expect(ev?.level).toBe('error');
  expect(evs.map((e) => e.code)).not.toContain('PUBLISH_STARTED');
  expect(evs.map((e) => e.code)).not.toContain('TRANSCODE_STARTED');
  expect((await fetch(c.playback.hls)).status).toBe(404);
  const ch = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as ChannelJson;
  expect(ch.state).toBe('idle');
}

describe('publishes the ingest refuses', () => {
  it('a wrong token', async () => {
    const c = await createChannel(a, 'wrong token');
    await expectRefused(c, urlWith(c, { t: 'not-the-token' }), 'LIVE_STREAM_INVALID_TOKEN');
  });

  it('the right token within 30 s of a failure (blocked), with the reason', async () => {
    const c = await createChannel(a, 'blocked');
    await expectRefused(c, urlWith(c, { t: 'wrong' }), 'LIVE_STREAM_INVALID_TOKEN');
    await expectRefused(c, urlWith(c, {}), 'CONNECTION_BLOCKED');
    const ev = (await events(c.entryId)).find((e) => e.code === 'CONNECTION_BLOCKED');
    expect(ev?.message).toContain('Connection blocked due to previous error');
  });

  it('a partner id that is not ours', async () => {
    const c = await createChannel(a, 'wrong partner');
    await expectRefused(c, urlWith(c, { p: '999' }), 'PARTNER_NOT_SERVED');
  });

  it('a stream name that does not match the entry', async () => {
    const c = await createChannel(a, 'bad stream name');
    const other = await createChannel(a, 'other');
    await expectRefused(c, urlWith(c, {}, `${other.entryId}_1`), 'INCORRECT_STREAM_NAME');
    await expectRefused(c, urlWith(c, {}, `${c.entryId}_x`), 'INCORRECT_STREAM_NAME');
  });

  it.each([
    ['t', 'token'],
    ['i', 'server index'],
  ])('a broadcast URL without %s', async (key, name) => {
    const c = await createChannel(a, `missing ${key}`);
    await expectRefused(c, urlWith(c, { [key]: null }), 'MISSING_ARGUMENT');
    expect((await events(c.entryId)).find((e) => e.code === 'MISSING_ARGUMENT')?.message).toContain(
      `Missing argument: ${name}`,
    );
  });

  it('keeps the reasons in the log without the token', async () => {
    const out = a.stdout();
    expect(out).toContain('publish rejected');
    expect(out).toContain('LIVE_STREAM_INVALID_TOKEN');
    expect(out).not.toContain('not-the-token');
  });
});
