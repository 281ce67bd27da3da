/** Standalone mode: the appliance is its own partner; entries and tokens are local channels. */
import { equalSecrets } from '../lib/random-id.js';
import { PartnerError, type AuthenticateRequest, type LiveEntry, type PartnerBackend } from './partner.js';

/** What standalone mode needs of the local channels (the channel store has it). */
export interface LocalEntries {
  get(entryId: string): { entryId: string; name: string; partnerId: number; token: string } | undefined;
}

export class StandalonePartner implements PartnerBackend {
  constructor(
    readonly partnerId: number,
    private readonly channels: LocalEntries,
  ) {}

  async authenticate(req: AuthenticateRequest): Promise<LiveEntry> {
    const channel = this.channels.get(req.entryId);
    if (!channel) throw new PartnerError('ENTRY_ID_NOT_FOUND', `Entry id "${req.entryId}" not found`);
    if (!equalSecrets(channel.token, req.token)) {
      throw new PartnerError(
        'LIVE_STREAM_INVALID_TOKEN',
        `Invalid token supplied for live entry [${req.entryId}]`,
      );
    }
    return { id: channel.entryId, name: channel.name, partnerId: channel.partnerId };
  }
}
