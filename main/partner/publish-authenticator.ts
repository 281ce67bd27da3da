/**
 * Decides whether a publish may start, as the Kaltura media server does: the partner must be ours,
 * the partner authenticates entry and token, a repeat within 10 s of a success is not re-authenticated,
 * and after a failure the entry is blocked for 30 s.
 */
import crypto from 'node:crypto';
import type { BroadcastRequest, Rejection } from '../ingest/broadcast-url.js';
import { PartnerError, type LiveEntry, type PartnerBackend } from './partner.js';

export interface AuthenticatorTiming {
  /** A successful authentication of the same entry and token is reused this long (ms). */
  skipMs: number;
  /** After a failed authentication, the entry is refused this long (ms). */
  blockMs: number;
}

export const DEFAULT_TIMING: AuthenticatorTiming = { skipMs: 10_000, blockMs: 30_000 };

export type AuthorizeResult =
  { ok: true; entry: LiveEntry; cached: boolean } | { ok: false; rejection: Rejection };

export class PublishAuthenticator {
  private readonly recent = new Map<string, { at: number; tokenHash: string; entry: LiveEntry }>();
  private readonly blocked = new Map<string, { until: number; rejection: Rejection }>();

  constructor(
    private readonly backend: PartnerBackend,
    private readonly hostname: string,
    private readonly timing: AuthenticatorTiming = DEFAULT_TIMING,
    private readonly now: () => number = Date.now,
  ) {}

  async authorize(req: BroadcastRequest): Promise<AuthorizeResult> {
    if (!(this.backend.serves?.(req.partnerId) ?? req.partnerId === this.backend.partnerId)) {
      return {
        ok: false,
        rejection: {
          code: 'PARTNER_NOT_SERVED',
          message: `Partner [${req.partnerId}] is not served by this appliance (bound to ${this.backend.partnerId})`,
        },
      };
    }
    const t = this.now();
    const block = this.blocked.get(req.entryId);
    if (block && block.until > t) {
      return {
        ok: false,
        rejection: {
          code: 'CONNECTION_BLOCKED',
          message: `Connection blocked due to previous error: ${block.rejection.message}`,
        },
      };
    }
    const tokenHash = crypto.createHash('sha256').update(req.token).digest('hex');
    const hit = this.recent.get(req.entryId);
    if (hit && hit.tokenHash === tokenHash && t - hit.at < this.timing.skipMs)
      return { ok: true, entry: hit.entry, cached: true };
    try {
      const entry = await this.backend.authenticate({
        partnerId: req.partnerId,
        entryId: req.entryId,
        token: req.token,
        serverIndex: req.serverIndex,
        hostname: this.hostname,
      });
      this.recent.set(req.entryId, { at: this.now(), tokenHash, entry });
      this.blocked.delete(req.entryId);
      return { ok: true, entry, cached: false };
    } catch (err) {
      const rejection =
        err instanceof PartnerError
          ? { code: err.code, message: err.message }
          : { code: 'AUTHENTICATION_FAILED', message: (err as Error).message };
      if (!(err instanceof PartnerError && err.transient)) {
        this.blocked.set(req.entryId, { until: this.now() + this.timing.blockMs, rejection });
      }
      this.recent.delete(req.entryId);
      return { ok: false, rejection };
    }
  }

  get partnerId(): number {
    return this.backend.partnerId;
  }

  /** Forgets everything known about an entry (its channel was deleted). */
  forget(entryId: string): void {
    this.recent.delete(entryId);
    this.blocked.delete(entryId);
  }
}
