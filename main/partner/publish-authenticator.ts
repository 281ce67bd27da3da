/**
 * Decides whether a publish may start, as the Kaltura media server does: the partner must be ours, the partner
 * authenticates entry and token, and a repeat within 10 s of a success is not re-authenticated. After a failed
 * authentication the entry is blocked for 30 s for that source address ("Connection blocked due to previous
 * error"), so a wrong token is not hammered at the service. The block never locks out the real encoder: it is
 * per entry and address (entry ids are public; a stranger's failures elsewhere block nothing), a token that
 * authenticated before passes it, and a different token from the same address is still asked about unless that
 * address keeps failing. Every map is bounded and pruned.
 */
import crypto from 'node:crypto';
import type { BroadcastRequest, Rejection } from '../ingest/broadcast-url.js';
import { PartnerError, type LiveEntry, type PartnerBackend } from './partner.js';

export interface AuthenticatorTiming {
  /** A successful authentication of the same entry and token is reused this long (ms). */
  skipMs: number;
  /** After a failed authentication, the entry is refused this long (ms) for that source address. */
  blockMs: number;
}

export const DEFAULT_TIMING: AuthenticatorTiming = { skipMs: 10_000, blockMs: 30_000 };

/** Failures from one address within a block window after which it is refused without asking (new tokens too). */
export const MAX_FAILURES_PER_ADDRESS = 5;
/** Entries each map keeps at most (oldest out first). */
export const MAX_REMEMBERED = 10_000;

export type AuthorizeResult =
  { ok: true; entry: LiveEntry; cached: boolean } | { ok: false; rejection: Rejection };

interface Block {
  until: number;
  rejection: Rejection;
  tokenHash: string;
}

export class PublishAuthenticator {
  private readonly recent = new Map<string, { at: number; tokenHash: string; entry: LiveEntry }>();
  /** The token hash each entry last authenticated with. */
  private readonly good = new Map<string, string>();
  /** `<entryId> <address>` → the block after a failure. */
  private readonly blocked = new Map<string, Block>();
  /** Failures per address in the current block window. */
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly backend: PartnerBackend,
    private readonly hostname: string,
    private readonly timing: AuthenticatorTiming = DEFAULT_TIMING,
    private readonly now: () => number = Date.now,
  ) {}

  /** `remote`: the encoder's address (blocks are per entry and address). */
  async authorize(req: BroadcastRequest, remote = 'unknown'): Promise<AuthorizeResult> {
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
    const tokenHash = crypto.createHash('sha256').update(req.token).digest('hex');
    const hit = this.recent.get(req.entryId);
    if (hit && hit.tokenHash === tokenHash && t - hit.at < this.timing.skipMs)
      return { ok: true, entry: hit.entry, cached: true };
    const blockKey = `${req.entryId} ${remote}`;
    const block = this.blocked.get(blockKey);
    const knownGood = this.good.get(req.entryId) === tokenHash;
    if (block && block.until > t && !knownGood) {
      const again = block.tokenHash === tokenHash || this.failing(remote, t);
      if (again) {
        return {
          ok: false,
          rejection: {
            code: 'CONNECTION_BLOCKED',
            message: `Connection blocked due to previous error: ${block.rejection.message}`,
          },
        };
      }
    }
    try {
      const entry = await this.backend.authenticate({
        partnerId: req.partnerId,
        entryId: req.entryId,
        token: req.token,
        serverIndex: req.serverIndex,
        hostname: this.hostname,
      });
      remember(this.recent, req.entryId, { at: this.now(), tokenHash, entry });
      remember(this.good, req.entryId, tokenHash);
      this.blocked.delete(blockKey);
      return { ok: true, entry, cached: false };
    } catch (err) {
      const rejection =
        err instanceof PartnerError
          ? { code: err.code, message: err.message }
          : { code: 'AUTHENTICATION_FAILED', message: (err as Error).message };
      if (!(err instanceof PartnerError && err.transient)) {
        const at = this.now();
        remember(this.blocked, blockKey, { until: at + this.timing.blockMs, rejection, tokenHash });
        const f = this.failures.get(remote);
        if (f && at - f.since < this.timing.blockMs) f.count++;
        else remember(this.failures, remote, { since: at, count: 1 });
      }
      this.recent.delete(req.entryId);
      return { ok: false, rejection };
    }
  }

  get partnerId(): number {
    return this.backend.partnerId;
  }

  /** The entry's blocks still running: the address, until when (ms), and the failure that caused it. */
  blocksOf(entryId: string): Array<{ address: string; until: number; reason: string }> {
    const t = this.now();
    const out: Array<{ address: string; until: number; reason: string }> = [];
    for (const [key, b] of this.blocked) {
      if (!key.startsWith(`${entryId} `) || b.until <= t) continue;
      out.push({ address: key.slice(entryId.length + 1), until: b.until, reason: b.rejection.message });
    }
    return out;
  }

  /** Forgets everything known about an entry (its channel was deleted, restarted or started again). */
  forget(entryId: string): void {
    this.recent.delete(entryId);
    this.good.delete(entryId);
    for (const key of this.blocked.keys()) if (key.startsWith(`${entryId} `)) this.blocked.delete(key);
  }

  /** Whether an address has failed too often lately to be asked about yet another token. */
  private failing(remote: string, t: number): boolean {
    const f = this.failures.get(remote);
    return f !== undefined && t - f.since < this.timing.blockMs && f.count >= MAX_FAILURES_PER_ADDRESS;
  }
}

/** Sets a key at the end of a map kept within {@link MAX_REMEMBERED} entries (the oldest go first). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
  }
}
