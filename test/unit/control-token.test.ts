/** "Regenerate token" in the control API: standalone channels get a new stream token; in eCDN mode it is Kaltura's. */
import { describe, expect, it, vi } from 'vitest';
import { ControlService, type ControlServiceOptions } from '../../main/api/control-service.js';
import type { ChannelRecord } from '../../main/channels/channel-store.js';
import { createLogger } from '../../main/lib/logger.js';

function service(mode: 'standalone' | 'ecdn') {
  let record: ChannelRecord = {
    entryId: '0_abcdefgh',
    partnerId: 1,
    name: 'Town hall',
    token: 'oldtoken12345678',
    createdAt: 0,
    accepting: true,
    access: 'open',
    signedGeneration: 0,
  } as ChannelRecord;
  const channels = {
    get: (id: string) => (id === record.entryId ? record : undefined),
    list: () => [record],
    rotateToken: vi.fn(() => {
      record = { ...record, token: 'newtoken87654321' };
      return record;
    }),
    addEvent: vi.fn(),
  };
  const live = {
    blocksOf: () => [],
    ingestsOf: () => [],
    transcodersOf: () => [],
    forgetAuthentication: vi.fn(),
    attempts: { of: () => undefined },
  };
  const s = new ControlService({
    mode,
    partnerId: 1,
    channels: channels as never,
    live: live as never,
    index: { getPublishingPoint: () => undefined, tracks: () => [] } as never,
    pps: {} as never,
    keys: {} as never,
    endpoints: { host: '127.0.0.1', rtmpPort: 1935, httpPort: 8080 },
    statistics: {} as never,
    settings: {} as never,
    status: () => ({}) as never,
    push: {} as never,
    onEvent: () => () => undefined,
    log: createLogger('silent'),
  } satisfies ControlServiceOptions);
  return { s, channels, live };
}

describe('channels.rotateToken', () => {
  it('standalone: a new token in every URL, publish blocks forgotten, an event', async () => {
    const { s, channels, live } = service('standalone');
    const r = await s.dispatch('channels.rotateToken', { entryId: '0_abcdefgh' });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value.token).toBe('newtoken87654321');
    expect(r.value.rtmp.server).toContain('t=newtoken87654321');
    expect(r.value.broadcastUrl).not.toContain('oldtoken');
    expect(live.forgetAuthentication).toHaveBeenCalledWith('0_abcdefgh');
    expect(channels.addEvent).toHaveBeenCalledWith('0_abcdefgh', 'warn', 'TOKEN_ROTATED', expect.any(String));
  });

  it("eCDN mode: refused with MODE_ECDN (the token is the Kaltura entry's), nothing changed", async () => {
    const { s, channels } = service('ecdn');
    const r = await s.dispatch('channels.rotateToken', { entryId: '0_abcdefgh' });
    expect(r).toMatchObject({ ok: false, error: { code: 'MODE_ECDN', status: 409 } });
    expect(!r.ok && r.error.message).toContain('Kaltura');
    expect(channels.rotateToken).not.toHaveBeenCalled();
  });

  it('an unknown channel is CHANNEL_NOT_FOUND', async () => {
    const r = await service('standalone').s.dispatch('channels.rotateToken', { entryId: '0_zzzzzzzz' });
    expect(r).toMatchObject({ ok: false, error: { code: 'CHANNEL_NOT_FOUND', status: 404 } });
  });
});
