/** Standalone mode: the appliance is its own partner; entries and tokens are local channels. */
import crypto from 'node:crypto';
import type { ChannelStore } from '../channels/channel-store.js';
import { PartnerError, type AuthenticateRequest, type LiveEntry, type PartnerBackend } from './partner.js';

export class StandalonePartner implements PartnerBackend {
  constructor(
    readonly partnerId: number,
    private readonly channels: ChannelStore,
  ) {}

  async authenticate(req: AuthenticateRequest): Promise<LiveEntry> {
    const channel = this.channels.get(req.entryId);
    if (!channel) throw new PartnerError('ENTRY_ID_NOT_FOUND', `Entry id "${req.entryId}" not found`);
    if (!timingSafeEqual(channel.token, req.token)) {
      throw new PartnerError(
        'LIVE_STREAM_INVALID_TOKEN',
        `Invalid token supplied for live entry [${req.entryId}]`,
      );
    }
    return { id: channel.entryId, name: channel.name, partnerId: channel.partnerId };
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
