/**
 * eCDN mode: the appliance is bound to one Kaltura partner and never impersonates (unless the on-prem `-5`
 * option is on). Every publish is authenticated with liveStream.authenticate; the conversion profile comes
 * from the service. When the service cannot be reached, publishes are refused (fail closed) unless the
 * entry and token authenticated successfully within the grace period.
 */
import crypto from 'node:crypto';
import type { Logger } from '../lib/logger.js';
import { bindingMessage, type BindingProblemCode } from './binding-problems.js';
import {
  KalturaApiError,
  KalturaTransportError,
  type KalturaClient,
  type KalturaLiveStreamEntry,
} from './kaltura/client.js';
import { PartnerError, type AuthenticateRequest, type LiveEntry, type PartnerBackend } from './partner.js';
import type { ServerNodeReporter, ServerNodeView } from './server-node.js';

export type BindingState = 'verifying' | 'bound' | 'failed';

export interface BindingStatus {
  state: BindingState;
  /** Why the binding failed: a code of BINDING_PROBLEMS (binding-problems.ts). */
  code?: BindingProblemCode;
  /** What the binding is (bound to partner N), or why it failed, in plain words. */
  message?: string;
  /** What to do about a failure. */
  fix?: string;
  checkedAt?: string;
  /** The media server node this appliance keeps alive at Kaltura. */
  serverNode?: ServerNodeView;
}

export interface KalturaPartnerOptions {
  partnerId: number;
  /** `-5` on-prem mode: find the entry's partner with liveStream.get and impersonate it. */
  impersonation: boolean;
  /** ms an entry+token that authenticated stays accepted while the service is unreachable; 0 = never. */
  authGraceMs: number;
  /** The media server node's reporter (its name is what authenticate sends as `hostname`). */
  serverNode?: ServerNodeReporter;
  log: Logger;
  /** Retry delays (ms) of the start-up binding check; the last repeats. */
  verifyBackoff?: readonly number[];
}

export type BindingCheck =
  | { ok: true; partnerId: number; name?: string; message: string }
  | { ok: false; code: BindingProblemCode; message: string; fix: string };

/**
 * Whether the partner binding really works: partner.getInfo proves the partner id, the secret and the service
 * URL; liveStream.authenticate of an entry that cannot exist proves the Hybrid eCDN permission
 * (ENTRY_ID_NOT_FOUND = permitted, SERVICE_FORBIDDEN = the feature is missing), which getInfo cannot see.
 */
export async function checkBinding(client: KalturaClient, partnerId: number): Promise<BindingCheck> {
  const fail = (code: BindingProblemCode, detail: string): BindingCheck => ({
    ok: false,
    code,
    message: bindingMessage(code, { partner: partnerId, detail }),
    fix: bindingMessage(code, { partner: partnerId }, 'fix'),
  });
  let info: { partnerId: number; name?: string };
  try {
    info = await client.verifyBinding();
    await client.probeLiveAccess();
  } catch (err) {
    if (err instanceof KalturaApiError) {
      const detail = `${err.code}: ${err.message}`;
      if (err.code === 'SERVICE_FORBIDDEN') return fail('PARTNER_FEATURE_MISSING', detail);
      // kSessionBase: -2 INVALID_PARTNER; anything else about the KS is its signature, i.e. the secret.
      if (err.code === 'INVALID_KS' && err.args.ERR_CODE === '-2') return fail('UNKNOWN_PARTNER', detail);
      if (err.code === 'INVALID_KS') return fail('WRONG_SECRET', detail);
      return fail('SERVICE_NOT_KALTURA', detail);
    }
    if (err instanceof KalturaTransportError) {
      return fail(
        err.kind === 'timeout' || err.kind === 'network' ? 'SERVICE_UNREACHABLE' : 'SERVICE_NOT_KALTURA',
        err.message,
      );
    }
    throw err;
  }
  return {
    ok: true,
    partnerId: info.partnerId,
    ...(info.name !== undefined ? { name: info.name } : {}),
    message: `bound to partner ${info.partnerId}${info.name ? ` (${info.name})` : ''}, with the Hybrid eCDN permission`,
  };
}

export class KalturaPartner implements PartnerBackend {
  readonly partnerId: number;
  private check: { state: BindingState; code?: BindingProblemCode; message?: string; checkedAt?: string } = {
    state: 'verifying',
  };
  /** What publishes learned since the last check (a node the service does not know, a permission withdrawn). */
  private learned: { code: BindingProblemCode; message: string; at: string } | undefined;
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
    // A node the service accepted again clears what a refused publish taught.
    o.serverNode?.onChange((v) => {
      if (v.state === 'active' && this.learned?.code === 'SERVER_NODE_MISSING') this.learned = undefined;
    });
  }

  /** The binding as the status shows it. */
  get status(): BindingStatus {
    const node = this.o.serverNode?.view();
    const base =
      this.learned && this.check.state === 'bound'
        ? {
            state: 'failed' as const,
            code: this.learned.code,
            message: this.learned.message,
            checkedAt: this.learned.at,
          }
        : this.check;
    return {
      ...base,
      ...(base.code
        ? { fix: bindingMessage(base.code, { partner: this.partnerId, node: node?.name }, 'fix') }
        : {}),
      ...(node ? { serverNode: node } : {}),
    };
  }

  /** Starts the server node's heartbeat, then verifies the binding and keeps retrying with backoff until it holds. */
  start(): void {
    const steps = this.o.verifyBackoff ?? [5_000, 15_000, 30_000, 60_000];
    let attempt = 0;
    const verify = async () => {
      // The node first: authenticate needs it to exist.
      await this.o.serverNode?.start();
      const r = await checkBinding(this.client, this.partnerId);
      const checkedAt = new Date().toISOString();
      if (r.ok) {
        this.check = { state: 'bound', message: r.message, checkedAt };
        this.o.log.info({ partnerId: r.partnerId }, 'Kaltura partner binding verified');
        return;
      }
      this.check = { state: 'failed', code: r.code, message: r.message, checkedAt };
      this.o.log.error({ code: r.code, reason: r.message }, 'Kaltura partner binding failed; retrying');
      if (this.stopped) return;
      const delay = steps[Math.min(attempt++, steps.length - 1)] ?? 60_000;
      this.verifyTimer = setTimeout(() => void verify(), delay);
      this.verifyTimer.unref();
    };
    void verify().catch((err: Error) =>
      this.o.log.error({ reason: err.message }, 'Kaltura partner binding check failed'),
    );
  }

  /** Stops retrying, and reports the server node not operational. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    await this.o.serverNode?.stop();
  }

  /** Bound to one partner; the on-prem -5 mode serves every partner (each entry's own is checked). */
  serves(partnerId: number): boolean {
    return this.o.impersonation || partnerId === this.partnerId;
  }

  /** The partner to impersonate for an entry (on-prem -5 mode), else undefined. */
  impersonateFor(entryId: string): number | undefined {
    return this.o.impersonation ? this.entryPartner.get(entryId) : undefined;
  }

  private learn(err: KalturaApiError): void {
    const code = BINDING_CODES[err.code];
    if (!code) return;
    const message = bindingMessage(code, {
      partner: this.partnerId,
      node: this.o.serverNode?.view().name ?? this.client.serverNodeName,
    });
    if (this.learned?.message !== message) this.o.log.error({ code }, message);
    this.learned = { code, message, at: new Date().toISOString() };
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
      this.learned = undefined;
      return entry;
    } catch (err) {
      if (err instanceof PartnerError) throw err;
      if (err instanceof KalturaApiError) {
        this.learn(err);
        throw new PartnerError(err.code, err.message);
      }
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

/** Refusals that mean the binding itself is broken, whatever the entry: the status says so. */
const BINDING_CODES: Partial<Record<string, BindingProblemCode>> = {
  MEDIA_SERVER_NOT_FOUND: 'SERVER_NODE_MISSING',
  SERVICE_FORBIDDEN: 'PARTNER_FEATURE_MISSING',
};

export function toLiveEntry(e: KalturaLiveStreamEntry): LiveEntry {
  const entry: LiveEntry = { id: e.id, name: e.name, partnerId: e.partnerId };
  if (e.recordStatus !== undefined) entry.recordStatus = e.recordStatus;
  if (e.dvrStatus !== undefined) entry.dvrStatus = e.dvrStatus;
  if (e.dvrWindow !== undefined) entry.dvrWindow = e.dvrWindow;
  if (e.segmentDuration !== undefined) entry.segmentDuration = e.segmentDuration;
  if (e.conversionProfileId !== undefined) entry.conversionProfileId = e.conversionProfileId;
  // The entry's SRT passphrase (an admin session sees it); null: the entry has none.
  if (typeof e.primaryBroadcastingUrl === 'string' && e.primaryBroadcastingUrl !== '')
    entry.primaryBroadcastingUrl = e.primaryBroadcastingUrl;
  if ('srtPass' in e) entry.srtPass = typeof e.srtPass === 'string' && e.srtPass !== '' ? e.srtPass : null;
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
