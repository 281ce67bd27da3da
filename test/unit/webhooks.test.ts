/** Alerts as webhooks: the signature, retries with backoff, no retry on 4xx, the flap limit, which events are alerts. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alertOf, AlertStates } from '../../main/alerts/channel-alerts.js';
import {
  checkWebhookUrl,
  SIGNATURE_HEADER,
  webhookSignature,
  Webhooks,
  type AlertNotification,
} from '../../main/alerts/webhooks.js';
import { createLogger } from '../../main/lib/logger.js';

const log = createLogger('silent');
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A receiver answering `statuses` in turn (then 200), keeping every body and signature. */
async function receiver(statuses: number[] = []) {
  const got: Array<{ body: string; signature: string | undefined }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push({ body, signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

const until = async (ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const alert = (over: Partial<AlertNotification> = {}): AlertNotification => ({
  condition: 'BLACK',
  phase: 'start',
  level: 'error',
  entryId: '0_abcdefgh',
  message: 'black picture',
  at: '2026-12-05T10:00:00.000Z',
  ...over,
});

describe('webhooks', () => {
  it('POST the alert as JSON, signed with HMAC-SHA256 over the body', async () => {
    const r = await receiver();
    const hooks = new Webhooks({ urls: [r.url], secret: 'shared-secret', log });
    cleanups.push(() => hooks.close());
    hooks.notify(alert());
    await until(() => r.got.length === 1);
    const got = r.got[0] as { body: string; signature: string };
    expect(JSON.parse(got.body)).toMatchObject({ condition: 'BLACK', phase: 'start', entryId: '0_abcdefgh' });
    expect(got.signature).toBe(webhookSignature('shared-secret', got.body));
    expect(got.signature).not.toBe(webhookSignature('another-secret', got.body));
  });

  it('retry with backoff while the receiver answers 5xx; never retry a 4xx', async () => {
    const flaky = await receiver([503, 502]);
    const refusing = await receiver([404]);
    const hooks = new Webhooks({
      urls: [flaky.url, refusing.url],
      secret: 's',
      log,
      backoffMs: [10, 20, 40],
    });
    cleanups.push(() => hooks.close());
    hooks.notify(alert());
    await until(() => flaky.got.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(flaky.got).toHaveLength(3);
    expect(refusing.got).toHaveLength(1);
  });

  it('send at most one notification per condition and channel per minute, then the latest held one', async () => {
    const r = await receiver();
    let now = 0;
    const hooks = new Webhooks({ urls: [r.url], secret: 's', log, flapMs: 200, now: () => now });
    cleanups.push(() => hooks.close());
    hooks.notify(alert({ phase: 'start' }));
    hooks.notify(alert({ phase: 'end' }));
    hooks.notify(alert({ phase: 'start', message: 'black again' }));
    hooks.notify(alert({ condition: 'SILENCE' }));
    await until(() => r.got.length === 2);
    now = 200;
    await until(() => r.got.length === 3, 2000);
    const sent = r.got.map((g) => JSON.parse(g.body) as AlertNotification);
    expect(sent.map((n) => `${n.condition} ${n.phase}`)).toEqual([
      'BLACK start',
      'SILENCE start',
      'BLACK start',
    ]);
    expect(sent[2]?.message).toBe('black again');
  });

  it('the test button reports each receiver’s answer', async () => {
    const ok = await receiver();
    const hooks = new Webhooks({
      urls: [ok.url, 'http://127.0.0.1:1/nothing'],
      secret: 's',
      log,
      timeoutMs: 2000,
    });
    const results = await hooks.test();
    expect(results[0]).toMatchObject({ ok: true, status: 200 });
    expect(results[1]).toMatchObject({ ok: false });
    expect(JSON.parse(ok.got[0]?.body ?? '{}')).toMatchObject({ condition: 'TEST' });
  });

  it('take http(s) URLs only', () => {
    expect(() => checkWebhookUrl('https://hooks.example.com/x')).not.toThrow();
    expect(() => checkWebhookUrl('file:///etc/passwd')).toThrow(/not http/);
    expect(() => checkWebhookUrl('nonsense')).toThrow(/not a URL/);
  });
});

describe('which channel events are alerts', () => {
  const ev = (code: string, message = '', level: 'info' | 'warn' | 'error' = 'warn') => ({
    entryId: '0_x',
    at: 0,
    level,
    code,
    message,
  });
  it('content conditions, the primary ingest lost and back, the backup taking over, a dying transcoder', () => {
    expect(alertOf(ev('BLACK_STARTED', 'black', 'error'))).toMatchObject({
      condition: 'BLACK',
      phase: 'start',
      level: 'error',
    });
    expect(alertOf(ev('SILENCE_ENDED'))).toMatchObject({ condition: 'SILENCE', phase: 'end' });
    expect(alertOf(ev('PUBLISH_STOPPED', 'primary ingest 0_x_1 from 1.2.3.4 stopped'))).toMatchObject({
      condition: 'INGEST_LOST',
      phase: 'start',
    });
    expect(alertOf(ev('PUBLISH_STOPPED', 'backup ingest 0_x_1 from 1.2.3.4 stopped'))).toBeUndefined();
    expect(alertOf(ev('INGEST_SWITCH', 'origin now fed by the backup ingest'))).toMatchObject({
      condition: 'BACKUP_TOOK_OVER',
      phase: 'start',
    });
    expect(alertOf(ev('TRANSCODER_RESTART'))).toMatchObject({ condition: 'TRANSCODER_FAILED' });
    expect(alertOf(ev('OPTIONS_CHANGED'))).toBeUndefined();
  });
  it('a channel staff stopped did not lose its ingest', () => {
    const s = new AlertStates();
    expect(s.fromEvent({ ...ev('CHANNEL_STOPPING', 'stopping'), at: 1000 })).toBeUndefined();
    expect(
      s.fromEvent({ ...ev('PUBLISH_STOPPED', 'primary ingest 0_x_1 stopped'), at: 2000 }),
    ).toBeUndefined();
    // Later, the encoder dropping on its own is an alert again.
    expect(
      s.fromEvent({ ...ev('PUBLISH_STOPPED', 'primary ingest 0_x_1 stopped'), at: 60_000 }),
    ).toMatchObject({
      condition: 'INGEST_LOST',
    });
  });
  it('an end without a start, and a second start, change nothing', () => {
    const s = new AlertStates();
    expect(s.accept(alert({ phase: 'end' }))).toBe(false);
    expect(s.accept(alert({ phase: 'start' }))).toBe(true);
    expect(s.accept(alert({ phase: 'start' }))).toBe(false);
    expect(s.accept(alert({ phase: 'end' }))).toBe(true);
  });
});
