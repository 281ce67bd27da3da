/** What the appliance needs from a partner backend: Kaltura's liveStream.authenticate, or local entries. */

/** The fields of a KalturaLiveStreamEntry that the appliance uses. */
export interface LiveEntry {
  id: string;
  name: string;
  partnerId: number;
  /** 0 disabled, 1 appended, 2 per session. */
  recordStatus?: number;
  /** 0/1. */
  dvrStatus?: number;
  /** Minutes. */
  dvrWindow?: number;
  /** Milliseconds. */
  segmentDuration?: number;
  conversionProfileId?: number;
  /** The entry's SRT passphrase (null: none; absent: the answer did not say). */
  srtPass?: string | null;
  /** Where Kaltura sends the entry's encoders (`primaryBroadcastingUrl`): the cloud, or this appliance. */
  primaryBroadcastingUrl?: string;
}

export interface AuthenticateRequest {
  /** `p` of the broadcast URL. */
  partnerId: number;
  entryId: string;
  token: string;
  /** `i`: Kaltura's mediaServerIndex. */
  serverIndex: 0 | 1;
  hostname: string;
}

/** A refusal from the partner, with Kaltura's exception code (e.g. LIVE_STREAM_INVALID_TOKEN). */
export class PartnerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** A transient failure (the service could not be asked) does not block the entry for 30 s. */
    readonly transient = false,
  ) {
    super(message);
  }
}

export interface PartnerBackend {
  /** The partner this appliance is bound to (`p` of every broadcast URL). */
  readonly partnerId: number;
  /** Whether broadcast URLs of this partner are served (default: only `partnerId`). */
  serves?(partnerId: number): boolean;
  /** Resolves with the entry, or rejects with a {@link PartnerError}. */
  authenticate(req: AuthenticateRequest): Promise<LiveEntry>;
}
