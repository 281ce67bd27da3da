/**
 * SRT in eCDN mode, against the Kaltura double: a caller with Kaltura's stream id (`ep=`, the entry's encrypted
 * SRT passphrase, which liveStream.authenticate accepts as the token) and the entry's `srtPass`. The appliance has
 * never seen the entry, so the first attempt is refused at the handshake (it had no passphrase to set); the
 * appliance asks the service about the entry (liveStream.get, admin KS: `srtPass`), records it, and the retry
 * publishes, authenticated by the service with the appliance as its media server. A made-up entry records nothing.
 */
import { waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { ECDN_FEATURES, encryptedSrtPass, FakeKaltura } from '../helpers/kaltura-server.js';
import { freeUdpPort, publishSrt } from '../helpers/srt.js';

const SECRET = 'partner-admin-secret-77aa01';
const PARTNER = 102;
const NODE = 'ecdn-srt.test.example';
const SRT_PASS = 'entry-srt-passphrase-01';
const ENTRY = '0_srtsrt01';

const kaltura = new FakeKaltura({
  partners: [{ id: PARTNER, adminSecret: SECRET, name: 'Acme', features: ECDN_FEATURES }],
  entries: [
    {
      id: ENTRY,
      partnerId: PARTNER,
      token: 'tok-srt',
      name: 'SRT event',
      segmentDuration: 2000,
      srtPass: SRT_PASS,
    },
  ],
});

const srtPort = await freeUdpPort();
// eslint-disable-next-line no-empty-pattern
const test = base.extend('serviceUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
  const url = await kaltura.start();
  onCleanup(() => kaltura.stop());
  return url;
});
test.override('applianceOptions', ({ serviceUrl }) => ({
  extraArgs: [
    '--mode',
    'ecdn',
    '--service-url',
    serviceUrl,
    '--partner-id',
    String(PARTNER),
    '--service-timeout',
    '2',
    '--server-node-name',
    NODE,
    '--server-node-interval',
    '1',
    '--srt-port',
    String(srtPort),
  ],
  env: { ECDN_PARTNER_SECRET: SECRET },
}));

const is = (c: { service: string; action: string }, what: string) =>
  `${c.service}.${c.action}`.toLowerCase() === what.toLowerCase();

async function channel(
  a: RunningAppliance,
  e: string,
): Promise<
  { srt?: { passphrase?: string }; ingests: Array<{ feeding: boolean; transport?: string }> } | undefined
> {
  const r = await a.api('GET', `/api/v1/channels/${e}`);
  return r.status === 200 ? ((await r.json()) as never) : undefined;
}

describe('SRT in eCDN mode', () => {
  test("learns the entry's SRT passphrase from the service, then publishes with Kaltura's stream id", async ({
    appliance: a,
  }) => {
    await waitFor('bound', async () => {
      const st = (await (await a.api('GET', '/api/v1/status')).json()) as { binding: { state: string } };
      return st.binding.state === 'bound';
    });
    const streamId = `#:::e=${ENTRY},st=0,ep=${encryptedSrtPass(SRT_PASS)}`;
    const first = publishSrt(srtPort, { streamId, passphrase: SRT_PASS, seconds: 10 });
    expect((await first.done).code).not.toBe(0);
    // The service answered about the entry: it is recorded, with the entry's passphrase.
    const learned = await waitFor(
      'the entry learned',
      async () => (await channel(a, ENTRY))?.srt?.passphrase,
      10_000,
    );
    expect(learned).toBe(SRT_PASS);
    expect(kaltura.calls.some((c) => is(c, 'liveStream.get') && c.params.entryId === ENTRY)).toBe(true);

    const retry = publishSrt(srtPort, { streamId, passphrase: SRT_PASS, seconds: 60 });
    try {
      await waitFor(
        'the SRT ingest feeding',
        async () => (await channel(a, ENTRY))?.ingests.some((i) => i.feeding && i.transport === 'srt'),
        30_000,
      );
      const auth = kaltura.calls.filter(
        (c) => is(c, 'liveStream.authenticate') && c.params.entryId === ENTRY,
      );
      expect(auth.at(-1)).toMatchObject({ outcome: 'ok', params: { hostname: NODE, mediaServerIndex: '0' } });
    } finally {
      await retry.stop();
    }

    // A made-up entry: refused, and nothing recorded.
    const madeUp = publishSrt(srtPort, {
      streamId: '#:::e=0_zzzzzzzz,st=0,p=x',
      passphrase: SRT_PASS,
      seconds: 5,
    });
    expect((await madeUp.done).code).not.toBe(0);
    const lookup = await waitFor('the service asked about it', async () =>
      kaltura.calls.find((c) => is(c, 'liveStream.get') && c.params.entryId === '0_zzzzzzzz'),
    );
    expect(lookup.outcome).toBe('ENTRY_ID_NOT_FOUND');
    expect((await a.api('GET', '/api/v1/channels/0_zzzzzzzz')).status).toBe(404);
  });
});
