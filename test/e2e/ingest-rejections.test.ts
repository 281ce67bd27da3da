/**
 * Every broadcast URL rule, sent by a real ffmpeg encoder: each refusal closes the connection before any
 * media reaches ffmpeg or the origin, and the reason lands in the channel's event list.
 */
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

async function events(
  a: RunningAppliance,
  entryId: string,
): Promise<Array<{ code: string; level: string; message: string }>> {
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
async function expectRefused(a: RunningAppliance, c: ChannelJson, url: string, code: string): Promise<void> {
  const enc = publish(url, { seconds: 6 });
  const timer = setTimeout(() => enc.proc.kill('SIGKILL'), 15_000);
  const r = await enc.done;
  clearTimeout(timer);
  expect(r.code, r.stderr).not.toBe(0);
  const evs = await waitFor(`event ${code}`, async () => {
    const e = await events(a, c.entryId);
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
  test('a wrong token', async ({ appliance: a }) => {
    const c = await createChannel(a, 'wrong token');
    await expectRefused(a, c, urlWith(c, { t: 'not-the-token' }), 'LIVE_STREAM_INVALID_TOKEN');
    // The channel's last publish attempt says so, with the fix in plain words (the channel header shows it).
    const ch = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as {
      lastPublish?: { accepted: boolean; code: string; remote: string; transport: string; fix: string };
    };
    expect(ch.lastPublish).toMatchObject({
      accepted: false,
      code: 'LIVE_STREAM_INVALID_TOKEN',
      remote: '127.0.0.1',
      transport: 'rtmp',
    });
    expect(ch.lastPublish?.fix).toMatch(/^Wrong token: compare .* with the Server field/);
  });

  test('the same wrong token again within 30 s (blocked without asking), with the reason', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'blocked');
    await expectRefused(a, c, urlWith(c, { t: 'wrong' }), 'LIVE_STREAM_INVALID_TOKEN');
    await expectRefused(a, c, urlWith(c, { t: 'wrong' }), 'CONNECTION_BLOCKED');
    // (The right token is never refused by the block: test/e2e/attacks.test.ts, "lockout".)
    const ev = (await events(a, c.entryId)).find((e) => e.code === 'CONNECTION_BLOCKED');
    expect(ev?.message).toContain('Connection blocked due to previous error');
  });

  test('a partner id that is not ours', async ({ appliance: a }) => {
    const c = await createChannel(a, 'wrong partner');
    await expectRefused(a, c, urlWith(c, { p: '999' }), 'PARTNER_NOT_SERVED');
  });

  test('a stream name that does not match the entry', async ({ appliance: a }) => {
    const c = await createChannel(a, 'bad stream name');
    const other = await createChannel(a, 'other');
    await expectRefused(a, c, urlWith(c, {}, `${other.entryId}_1`), 'INCORRECT_STREAM_NAME');
    await expectRefused(a, c, urlWith(c, {}, `${c.entryId}_x`), 'INCORRECT_STREAM_NAME');
  });

  test.for([
    ['t', 'token'],
    ['i', 'server index'],
  ] as const)('a broadcast URL without %s', async ([key, name], { appliance: a }) => {
    const c = await createChannel(a, `missing ${key}`);
    await expectRefused(a, c, urlWith(c, { [key]: null }), 'MISSING_ARGUMENT');
    expect((await events(a, c.entryId)).find((e) => e.code === 'MISSING_ARGUMENT')?.message).toContain(
      `Missing argument: ${name}`,
    );
  });

  test('the broadcast URL without "/<stream name>": the channel hears why, not "Missing argument"', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'no stream name');
    await expectRefused(a, c, c.broadcastUrl, 'MISSING_STREAM_NAME');
    const ev = (await events(a, c.entryId)).find((e) => e.code === 'MISSING_STREAM_NAME');
    expect(ev?.message).toContain(`followed by "/${c.entryId}_1"`);
    expect((await events(a, c.entryId)).map((e) => e.code)).not.toContain('MISSING_ARGUMENT');
  });

  test('a publish that matches no channel is listed under "Refused publishes", with what to do', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'real one');
    const enc = publish(urlWith(c, { e: '0_nochanel' }, '0_nochanel_1'), { seconds: 4 });
    expect((await enc.done).code).not.toBe(0);
    const row = await waitFor('the refusal listed', async () => {
      const r = (await (await a.api('GET', '/api/v1/ingest/refusals')).json()) as {
        refusals: Array<{ entryId?: string; code: string; hint: string; count: number; remote: string }>;
      };
      return r.refusals.find((x) => x.entryId === '0_nochanel');
    });
    expect(row.code).toBe('ENTRY_ID_NOT_FOUND');
    expect(row.hint).toMatch(/check the entry id|No channel has this entry id/);
    expect(row.remote).toBe('127.0.0.1');
  });

  test('a block after a wrong token shows on the channel with its time left; "Allow now" clears it', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'allow now');
    await expectRefused(a, c, urlWith(c, { t: 'wrong' }), 'LIVE_STREAM_INVALID_TOKEN');
    const view = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as {
      blocks: Array<{ address: string; until: string; reason: string }>;
    };
    expect(view.blocks).toHaveLength(1);
    expect(view.blocks[0]?.address).toBe('127.0.0.1');
    expect(Date.parse(view.blocks[0]?.until ?? '')).toBeGreaterThan(Date.now());
    const allowed = await a.api('POST', `/api/v1/channels/${c.entryId}/allow`);
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { blocks: unknown[] }).blocks).toEqual([]);
    // The same wrong token is asked about again (not "blocked"), and refused for what it is.
    await expectRefused(a, c, urlWith(c, { t: 'wrong' }), 'LIVE_STREAM_INVALID_TOKEN');
    const codes = (await events(a, c.entryId)).map((e) => e.code);
    expect(codes).toContain('PUBLISH_ALLOWED');
    expect(codes).not.toContain('CONNECTION_BLOCKED');
  });

  test('keeps the reasons in the log without the token', async ({ appliance: a }) => {
    const out = a.stdout();
    expect(out).toContain('publish rejected');
    expect(out).toContain('LIVE_STREAM_INVALID_TOKEN');
    expect(out).not.toContain('not-the-token');
  });
});
