/**
 * Alerts as webhooks on a running appliance: an encoder that drops is an INGEST_LOST alert POSTed to the receiver,
 * signed with the shared secret; the settings page's test button reaches the receiver too. (Retries, the flap
 * limit and the event-to-alert table: test/unit/webhooks.test.ts.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../helpers/appliance.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { SIGNATURE_HEADER, webhookSignature } from '../../main/alerts/webhooks.js';

const SECRET = 'webhook-secret-0123456789';

interface Received {
  body: string;
  signature: string | undefined;
}

const test = base
  // eslint-disable-next-line no-empty-pattern
  .extend('receiver', { scope: 'file' }, async ({}, { onCleanup }) => {
    const got: Received[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        got.push({ body, signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts?token=abc`, got };
  })
  .override('applianceOptions', ({ receiver }) => ({
    extraArgs: ['--webhook-url', receiver.url],
    env: { ECDN_WEBHOOK_SECRET: SECRET },
  }));

test.override('encoderOptions', { seconds: 4 });

describe('alert webhooks', () => {
  test('an encoder that drops is an INGEST_LOST alert, signed; the test button reaches the receiver', async ({
    appliance: a,
    liveChannel: c,
    encoder,
    receiver,
  }) => {
    await encoder.done;
    const lost = await waitFor(
      'the INGEST_LOST webhook',
      async () => receiver.got.find((g) => g.body.includes('"INGEST_LOST"')),
      30_000,
    );
    expect(JSON.parse(lost.body)).toMatchObject({
      condition: 'INGEST_LOST',
      phase: 'start',
      entryId: c.entryId,
    });
    expect(lost.signature).toBe(webhookSignature(SECRET, lost.body));
    const r = await a.api('POST', '/api/v1/alerts/webhooks/test');
    expect(r.status).toBe(200);
    const result = (await r.json()) as { configured: boolean; results: Array<{ url: string; ok: boolean }> };
    expect(result.configured).toBe(true);
    expect(result.results[0]?.ok).toBe(true);
    // The URL's query (it may hold a token) is not shown.
    expect(result.results[0]?.url).not.toContain('token=abc');
    expect(receiver.got.some((g) => g.body.includes('"TEST"'))).toBe(true);
    expect(a.stdout()).not.toContain(SECRET);
  });
});
