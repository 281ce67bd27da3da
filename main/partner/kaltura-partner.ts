/**
 * eCDN mode: the appliance is bound to one Kaltura partner and never impersonates (unless the on-prem `-5`
 * option is on). Every publish is authenticated with liveStream.authenticate; the conversion profile comes
 * from the service. When the service cannot be reached, publishes are refused (fail closed) unless the
 * entry and token authenticated successfully within the grace period.
 */
import crypto from 'node:crypto';
import type { Logger } from '../core/logger.js';
import {
  KalturaApiError,
  KalturaTransportError,
  type KalturaClient,
  type KalturaLiveStreamEntry,
} from './kaltura/client.js';
import { PartnerError, type AuthenticateRequest, type LiveEntry, type PartnerBackend } from './partner.js';

export type BindingState = 'verifying' | 'bound' | 'failed';

export interface BindingStatus {
  state: BindingState;
  /** Why the binding failed (wrong secret, unknown partner, service unreachable). */
  message?: string;
  checkedAt?: string;
}

export interface KalturaPartnerOptions {
  partnerId: number;
  /** `-5` on-prem mode: find the entry's partner with liveStream.get and impersonate it. */
  impersonation: boolean;
  /** ms an entry+token that authenticated stays accepted while the service is unreachable; 0 = never. */
  authGraceMs: number;
  log: Logger;
  /** Retry delays (ms) of the start-up binding check; the last repeats. */
  verifyBackoff?: readonly number[];
}

export class KalturaPartner implements PartnerBackend {
  readonly partnerId: number;
  status: BindingStatus = { state: 'verifying' };
  private readonly lastGood = new Map<string, { at: number; tokenHash: string; entry: LiveEntry }>();
  /** Partner of each entry, when impersonating. */
  private readonly entryPartner = new Map<string, number>();
  private verifyTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly client: KalturaClient,
    private readonly o: KalturaPartnerOptions,
  ) {
    this.partnerId = o.partnerId;
  }

  /** Verifies the binding with one cheap call, and keeps retrying with backoff until it holds. */
  start(): void {
    const steps = this.o.verifyBackoff ?? [5_000, 15_000, 30_000, 60_000];
    let attempt = 0;
    const verify = async () => {
      try {
        const info = await this.client.verifyBinding();
        this.status = {
          state: 'bound',
          message: `bound to partner ${info.partnerId}${info.name ? ` (${info.name})` : ''}`,
          checkedAt: new Date().toISOString(),
        };
        this.o.log.info({ partnerId: info.partnerId }, 'Kaltura partner binding verified');
        return;
      } catch (err) {
        this.status = { state: 'failed', message: describe(err), checkedAt: new Date().toISOString() };
        this.o.log.error({ reason: this.status.message }, 'Kaltura partner binding failed; retrying');
      }
      if (this.stopped) return;
      const delay = steps[Math.min(attempt++, steps.length - 1)] ?? 60_000;
      this.verifyTimer = setTimeout(() => void verify(), delay);
      this.verifyTimer.unref();
    };
    void verify();
  }

  stop(): void {
    this.stopped = true;
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
  }

  /** Bound to one partner; the on-prem -5 mode serves every partner (each entry's own is checked). */
  serves(partnerId: number): boolean {
    return this.o.impersonation || partnerId === this.partnerId;
  }

  /** The partner to impersonate for an entry (on-prem -5 mode), else undefined. */
  impersonateFor(entryId: string): number | undefined {
    return this.o.impersonation ? this.entryPartner.get(entryId) : undefined;
  }

  async authenticate(req: AuthenticateRequest): Promise<LiveEntry> {
    const tokenHash = crypto.createHash('sha256').update(req.token).digest('hex');
    try {
      let impersonate: number | undefined;
      if (this.o.impersonation) {
        const found = await this.client.getEntry(req.entryId);
        if (found.partnerId !== req.partnerId) {
          throw new PartnerError(
            'ENTRY_ID_NOT_FOUND',
            `Entry id "${req.entryId}" not found for partner ${req.partnerId}`,
          );
        }
        impersonate = found.partnerId;
        this.entryPartner.set(req.entryId, impersonate);
      }
      const e = await this.client.authenticate(
        req.entryId,
        req.token,
        req.serverIndex,
        impersonate !== undefined ? { impersonate } : undefined,
      );
      const entry = toLiveEntry(e);
      this.lastGood.set(req.entryId, { at: Date.now(), tokenHash, entry });
      return entry;
    } catch (err) {
      if (err instanceof PartnerError) throw err;
      if (err instanceof KalturaApiError) throw new PartnerError(err.code, err.message);
      if (err instanceof KalturaTransportError) {
        const good = this.lastGood.get(req.entryId);
        if (
          this.o.authGraceMs > 0 &&
          good &&
          good.tokenHash === tokenHash &&
          Date.now() - good.at <= this.o.authGraceMs
        ) {
          this.o.log.warn(
            { entryId: req.entryId, reason: err.message },
            'Kaltura service unreachable: publish accepted within the grace period',
          );
          return good.entry;
        }
        throw new PartnerError(
          'SERVICE_UNREACHABLE',
          `Kaltura service unreachable (${err.kind}): publish refused`,
          true,
        );
      }
      throw err;
    }
  }
}

export function toLiveEntry(e: KalturaLiveStreamEntry): LiveEntry {
  const entry: LiveEntry = { id: e.id, name: e.name, partnerId: e.partnerId };
  if (e.recordStatus !== undefined) entry.recordStatus = e.recordStatus;
  if (e.dvrStatus !== undefined) entry.dvrStatus = e.dvrStatus;
  if (e.dvrWindow !== undefined) entry.dvrWindow = e.dvrWindow;
  if (e.segmentDuration !== undefined) entry.segmentDuration = e.segmentDuration;
  if (e.conversionProfileId !== undefined) entry.conversionProfileId = e.conversionProfileId;
  return entry;
}

/**
 * What an entry says about its publishing point: DVR window min(dvrWindow × 60, 7200) s when dvrStatus is 1,
 * archiving when recordStatus is not 0, fragment duration from segmentDuration (ms).
 */
export function publishingPointOptionsFor(entry: LiveEntry): Record<string, string> {
  const o: Record<string, string> = {};
  if (entry.dvrStatus === 1 && entry.dvrWindow !== undefined)
    o.dvr_window_length = String(Math.min(entry.dvrWindow * 60, 7200));
  if (entry.recordStatus !== undefined) o.archiving = entry.recordStatus !== 0 ? 'true' : 'false';
  if (entry.segmentDuration !== undefined && entry.segmentDuration > 0) {
    o.fragment_duration = String(Math.min(20, Math.max(1, entry.segmentDuration / 1000)));
  }
  return o;
}

function describe(err: unknown): string {
  if (err instanceof KalturaApiError) return `${err.code}: ${err.message}`;
  if (err instanceof KalturaTransportError) return `service unreachable (${err.kind}): ${err.message}`;
  return (err as Error).message;
}
