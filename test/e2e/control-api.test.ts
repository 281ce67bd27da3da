/** The control API on the admin listener: credentials, channel CRUD, and clear errors for bad requests. */
import { createChannel } from '../helpers/appliance.js';
import { describe, expect, test } from '../helpers/fixtures.js';

async function errorOf(r: Response): Promise<{ code: string; message: string }> {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

describe('admin credentials', () => {
  test('health answers without credentials', async ({ appliance: a }) => {
    const r = await fetch(`${a.admin}/api/v1/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  test('everything else needs the admin token', async ({ appliance: a }) => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: 'Basic ' + Buffer.from('x:wrong').toString('base64') },
    ];
    for (const headers of attempts) {
      const r = await fetch(`${a.admin}/api/v1/channels`, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
      expect((await errorOf(r)).code).toBe('UNAUTHORIZED');
    }
    const status = await fetch(`${a.admin}/api/v1/status`);
    expect(status.status).toBe(401);
  });

  test('accepts the token as Bearer or as the Basic password (curl -u any:token)', async ({
    appliance: a,
  }) => {
    expect((await a.api('GET', '/api/v1/channels')).status).toBe(200);
    const basic = await fetch(`${a.admin}/api/v1/channels`, {
      headers: { authorization: 'Basic ' + Buffer.from(`ops:${a.token}`).toString('base64') },
    });
    expect(basic.status).toBe(200);
  });

  test("the status says how full the data directory's disk is", async ({ appliance: a }) => {
    const s = (await (await a.api('GET', '/api/v1/status')).json()) as {
      disk: { freeBytes: number; totalBytes: number; nearlyFull: boolean };
    };
    expect(s.disk.totalBytes).toBeGreaterThan(s.disk.freeBytes);
    expect(s.disk.freeBytes).toBeGreaterThan(0);
    expect(typeof s.disk.nearlyFull).toBe('boolean');
  });
});

describe('channels', () => {
  test('creates a channel with everything an encoder and a viewer need', async ({ appliance: a }) => {
    const r = await a.api('POST', '/api/v1/channels', { name: 'Town hall' });
    expect(r.status).toBe(201);
    const c = (await r.json()) as Record<string, unknown> & {
      entryId: string;
      token: string;
      playback: { hls: string; dash: string };
    };
    expect(c.entryId).toMatch(/^0_[0-9a-z]{8}$/);
    expect(c.partnerId).toBe(1);
    expect(c.name).toBe('Town hall');
    expect(c.streamName).toBe(`${c.entryId}_1`);
    expect(c.broadcastUrl).toBe(`rtmp://127.0.0.1:${a.rtmpPort}/kLive/?p=1&e=${c.entryId}&i=0&t=${c.token}`);
    expect(c.backupBroadcastUrl).toBe(
      `rtmp://127.0.0.1:${a.rtmpPort}/kLive/?p=1&e=${c.entryId}&i=1&t=${c.token}`,
    );
    expect(c.publishingPoint).toEqual({
      name: `${c.entryId}.isml`,
      path: `/${c.entryId}/${c.entryId}.isml`,
      state: 'idle',
    });
    expect(c.playback).toEqual({
      hls: `http://127.0.0.1:${a.httpPort}/${c.entryId}/${c.entryId}.isml/.m3u8`,
      dash: `http://127.0.0.1:${a.httpPort}/${c.entryId}/${c.entryId}.isml/.mpd`,
    });
    expect(c.state).toBe('idle');
    expect(c.rtmp).toEqual({
      server: c.broadcastUrl,
      backupServer: c.backupBroadcastUrl,
      streamKey: c.streamName,
    });
  });

  test('lists, reads and deletes channels', async ({ appliance: a }) => {
    const c = await createChannel(a, 'to delete');
    const list = (await (await a.api('GET', '/api/v1/channels')).json()) as {
      channels: Array<{ entryId: string }>;
    };
    expect(list.channels.map((x) => x.entryId)).toContain(c.entryId);
    expect((await a.api('GET', `/api/v1/channels/${c.entryId}`)).status).toBe(200);
    const del = await a.api('DELETE', `/api/v1/channels/${c.entryId}`);
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ deleted: c.entryId });
    const gone = await a.api('GET', `/api/v1/channels/${c.entryId}`);
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).code).toBe('CHANNEL_NOT_FOUND');
    expect((await a.api('DELETE', `/api/v1/channels/${c.entryId}`)).status).toBe(404);
  });

  test.for([
    ['no name', {}, /name/],
    ['an empty name', { name: '   ' }, /name must not be empty/],
    ['a name that is not a string', { name: 42 }, /name/],
    ['unknown fields', { name: 'x', colour: 'red' }, /colour/],
    ['a very long name', { name: 'x'.repeat(201) }, /longer than 200/],
    ['not JSON', '{"name": ', /JSON|body/i],
    ['JSON that is not an object', '[1,2]', /expected object|body/i],
  ] as const)('refuses %s with 400 and a reason', async ([_what, body, reason], { appliance: a }) => {
    const r = await a.api('POST', '/api/v1/channels', body);
    expect(r.status).toBe(400);
    const e = await errorOf(r);
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(reason);
  });

  test('refuses a huge body with 413 and creates nothing', async ({ appliance: a }) => {
    const before = ((await (await a.api('GET', '/api/v1/channels')).json()) as { channels: unknown[] })
      .channels.length;
    const r = await a.api('POST', '/api/v1/channels', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(r.status).toBe(413);
    expect((await errorOf(r)).code).toBe('PAYLOAD_TOO_LARGE');
    const after = ((await (await a.api('GET', '/api/v1/channels')).json()) as { channels: unknown[] })
      .channels.length;
    expect(after).toBe(before);
  });

  test('answers unknown routes with 404 JSON', async ({ appliance: a }) => {
    const r = await a.api('GET', '/api/v1/nothing');
    expect(r.status).toBe(404);
    expect((await errorOf(r)).code).toBe('NOT_FOUND');
  });
});

describe('origin', () => {
  test('404s unknown publishing points and paths that try to leave the data directory', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'origin paths');
    expect((await fetch(`${a.origin}/0_zzzzzzzz/0_zzzzzzzz.isml/.m3u8`)).status).toBe(404);
    expect((await fetch(c.playback.hls)).status).toBe(404);
    for (const p of [
      `/${c.entryId}/${c.entryId}.isml/tracks/..%2F..%2F..%2Fappliance.db`,
      `/${c.entryId}/${c.entryId}.isml/tracks/video_source/..%2F..%2Fx.m4s`,
      `/..%2F..%2Fetc/passwd.isml/.m3u8`,
      `/${c.entryId}/other.isml/.m3u8`,
    ]) {
      const r = await fetch(a.origin + p);
      expect(r.status, p).toBe(404);
    }
  });
});
