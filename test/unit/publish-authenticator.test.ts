import { describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../main/ingest/broadcast-url.js';
import {
  PartnerError,
  type AuthenticateRequest,
  type LiveEntry,
  type PartnerBackend,
} from '../../main/partner/partner.js';
import { MAX_REMEMBERED, PublishAuthenticator } from '../../main/partner/publish-authenticator.js';

class CountingPartner implements PartnerBackend {
  readonly partnerId = 102;
  calls: AuthenticateRequest[] = [];
  constructor(private readonly tokens: Record<string, string>) {}
  async authenticate(req: AuthenticateRequest): Promise<LiveEntry> {
    this.calls.push(req);
    const token = this.tokens[req.entryId];
    if (token === undefined)
      throw new PartnerError('ENTRY_ID_NOT_FOUND', `Entry id "${req.entryId}" not found`);
    if (token !== req.token)
      throw new PartnerError(
        'LIVE_STREAM_INVALID_TOKEN',
        `Invalid token supplied for live entry [${req.entryId}]`,
      );
    return { id: req.entryId, name: 'n', partnerId: this.partnerId };
  }
}

const req = (over: Partial<BroadcastRequest> = {}): BroadcastRequest => ({
  partnerId: 102,
  entryId: '0_aaaaaaaa',
  serverIndex: 0,
  token: 'good',
  streamName: '0_aaaaaaaa_1',
  streamIndex: 1,
  ...over,
});

function setup() {
  let now = 1_000_000;
  const partner = new CountingPartner({ '0_aaaaaaaa': 'good' });
  const auth = new PublishAuthenticator(partner, 'host1', { skipMs: 10_000, blockMs: 30_000 }, () => now);
  return { partner, auth, advance: (ms: number) => (now += ms) };
}

describe('PublishAuthenticator', () => {
  it('refuses a partner that is not ours without calling the partner', async () => {
    const { partner, auth } = setup();
    const r = await auth.authorize(req({ partnerId: 103 }));
    expect(r).toMatchObject({ ok: false, rejection: { code: 'PARTNER_NOT_SERVED' } });
    expect(partner.calls).toHaveLength(0);
  });

  it('passes entry, token, server index and hostname to the partner', async () => {
    const { partner, auth } = setup();
    expect(await auth.authorize(req({ serverIndex: 1 }))).toMatchObject({ ok: true, cached: false });
    expect(partner.calls).toEqual([
      { partnerId: 102, entryId: '0_aaaaaaaa', token: 'good', serverIndex: 1, hostname: 'host1' },
    ]);
  });

  it('skips re-authentication of the same entry and token within 10 s, not after', async () => {
    const { partner, auth, advance } = setup();
    await auth.authorize(req());
    advance(9_000);
    expect(await auth.authorize(req())).toMatchObject({ ok: true, cached: true });
    expect(partner.calls).toHaveLength(1);
    advance(2_000);
    expect(await auth.authorize(req())).toMatchObject({ ok: true, cached: false });
    expect(partner.calls).toHaveLength(2);
  });

  it('does not reuse a success for a different token', async () => {
    const { auth } = setup();
    await auth.authorize(req());
    expect(await auth.authorize(req({ token: 'bad' }))).toMatchObject({
      ok: false,
      rejection: { code: 'LIVE_STREAM_INVALID_TOKEN' },
    });
  });

  it('blocks a failing token for 30 s from that address without asking, then lets it be asked again', async () => {
    const { partner, auth, advance } = setup();
    expect(await auth.authorize(req({ token: 'bad' }), '10.0.0.9')).toMatchObject({
      ok: false,
      rejection: { code: 'LIVE_STREAM_INVALID_TOKEN' },
    });
    advance(29_000);
    const blocked = await auth.authorize(req({ token: 'bad' }), '10.0.0.9');
    expect(blocked).toMatchObject({ ok: false, rejection: { code: 'CONNECTION_BLOCKED' } });
    expect(!blocked.ok && blocked.rejection.message).toMatch(/^Connection blocked due to previous error/);
    expect(partner.calls).toHaveLength(1);
    advance(1_500);
    expect(await auth.authorize(req({ token: 'bad' }), '10.0.0.9')).toMatchObject({
      rejection: { code: 'LIVE_STREAM_INVALID_TOKEN' },
    });
    expect(partner.calls).toHaveLength(2);
  });

  it('never locks out the encoder with the right token: a stranger elsewhere, or a fixed token here', async () => {
    const { partner, auth } = setup();
    // Entry ids are public: a stranger's wrong tokens block nothing for the encoder's address.
    for (let i = 0; i < 3; i++) await auth.authorize(req({ token: `guess${i}` }), '203.0.113.7');
    expect(await auth.authorize(req(), '10.0.0.5')).toMatchObject({ ok: true, cached: false });
    // The operator mistyped the token, then fixed it: the right one is asked about at once.
    const { auth: a2 } = setup();
    await a2.authorize(req({ token: 'typo' }), '10.0.0.5');
    expect(await a2.authorize(req(), '10.0.0.5')).toMatchObject({ ok: true });
    // A token that authenticated before passes even a block at its own address.
    await a2.authorize(req({ token: 'typo' }), '10.0.0.5');
    for (let i = 0; i < 5; i++) await a2.authorize(req({ token: `typo${i}` }), '10.0.0.5');
    expect(await a2.authorize(req(), '10.0.0.5')).toMatchObject({ ok: true });
    expect(partner.calls.length).toBe(4);
  });

  it('an address that keeps failing is refused new tokens without asking until its window ends', async () => {
    const { partner, auth, advance } = setup();
    for (let i = 0; i < 5; i++) await auth.authorize(req({ token: `t${i}` }), '198.51.100.1');
    expect(partner.calls).toHaveLength(5);
    expect(await auth.authorize(req({ token: 'another' }), '198.51.100.1')).toMatchObject({
      rejection: { code: 'CONNECTION_BLOCKED' },
    });
    expect(partner.calls).toHaveLength(5);
    advance(31_000);
    await auth.authorize(req({ token: 'another' }), '198.51.100.1');
    expect(partner.calls).toHaveLength(6);
  });

  it('keeps what it remembers bounded, whatever a stranger sends', async () => {
    const { auth } = setup();
    for (let i = 0; i < MAX_REMEMBERED + 50; i++)
      await auth.authorize(req({ token: 'bad' }), `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const maps = auth as unknown as { blocked: Map<string, unknown>; failures: Map<string, unknown> };
    expect(maps.blocked.size).toBeLessThanOrEqual(MAX_REMEMBERED);
    expect(maps.failures.size).toBeLessThanOrEqual(MAX_REMEMBERED);
  });

  it('reports an unknown entry with the partner code', async () => {
    const { auth } = setup();
    expect(await auth.authorize(req({ entryId: '0_bbbbbbbb', streamName: '0_bbbbbbbb_1' }))).toMatchObject({
      ok: false,
      rejection: { code: 'ENTRY_ID_NOT_FOUND' },
    });
  });
});
