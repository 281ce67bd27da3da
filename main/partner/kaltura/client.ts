/**
 * The Kaltura API client the appliance uses opposite a partner's Kaltura service, as the Kaltura Media
 * Server (kLive) does: a v1 admin KS signed with the partner's admin secret, JSON requests to
 * `api_v3/service/<service>/action/<action>`, and the transcoder XML from the conversion profile service.
 *
 * Nothing secret (the admin secret, a KS, a stream token) ever appears in an error message: the service's
 * own messages are redacted too (its INVALID_KS message quotes the KS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { generateKs, urlSafeKs } from './ks.js';

export interface KalturaClientConfig {
  /** e.g. `https://www.kaltura.com` (a trailing `/` is ignored). */
  serviceUrl: string;
  /** The bound partner; `-5` is the built-in media server partner (impersonates each entry's partner). */
  partnerId: number;
  adminSecret: string;
  /** Per HTTP request (each attempt of a retried call gets its own). */
  timeoutMs: number;
  /** Default `ecdn-appliance:<version>`. */
  clientTag?: string;
  /** This appliance's name towards the service (`hostname` of authenticate / registerMediaServer). */
  hostname: string;
  /** Default `kLive`. */
  applicationName?: string;
}

/** The `api_v3` version the Kaltura Media Server's generated Java client sends. */
export const KALTURA_API_VERSION = '3.3.0';
/** The media server regenerates its KS every 23 hours (it is valid for 24). */
export const KS_RENEW_AFTER_MS = 23 * 3600_000;
export const KS_EXPIRY_SECONDS = 86_400;

/** liveStream.registerMediaServer `liveEntryStatus` (EntryServerNodeStatus). */
export const LIVE_ENTRY_STATUS = { PLAYABLE: 1, BROADCASTING: 2 } as const;

/** The conversion profile service: the deployed name first, then the seed README's. */
export const CONVERSION_PROFILE_SERVICES = [
  'wowza_liveConversionProfile',
  'wowza_liveStreamConversionProfile',
] as const;

/** Exception codes after which a fresh KS is generated and the call retried once. */
const KS_ERROR_CODES = new Set(['INVALID_KS', 'EXPIRED_KS']);
/** Exception codes meaning "no such service here" (the server spells it SERVICE_DOES_NOT_EXISTS). */
const NO_SERVICE_CODES = new Set(['SERVICE_DOES_NOT_EXIST', 'SERVICE_DOES_NOT_EXISTS', 'SERVICE_FORBIDDEN']);

const REDACTED = '[redacted]';

/** The service's exception object (`objectType: KalturaAPIException`), answered with HTTP 200. */
export class KalturaApiError extends Error {
  readonly objectType = 'KalturaAPIException';
  constructor(
    readonly code: string,
    message: string,
    readonly args: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KalturaApiError';
  }
}

export type KalturaTransportErrorKind = 'timeout' | 'network' | 'http' | 'parse';

/** The service could not be reached or did not answer like the Kaltura API. */
export class KalturaTransportError extends Error {
  constructor(
    readonly kind: KalturaTransportErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KalturaTransportError';
  }
}

export interface KalturaLiveStreamEntry {
  objectType: 'KalturaLiveStreamEntry';
  id: string;
  name: string;
  partnerId: number;
  conversionProfileId?: number;
  /** 0 disabled, 1 appended, 2 per session. */
  recordStatus?: number;
  /** 0/1. */
  dvrStatus?: number;
  /** Minutes. */
  dvrWindow?: number;
  /** Milliseconds. */
  segmentDuration?: number;
  streamName?: string;
  primaryBroadcastingUrl?: string;
  secondaryBroadcastingUrl?: string;
  [k: string]: unknown;
}

interface CallOptions {
  impersonate?: number;
}

type Fetch = typeof fetch;

/** `ecdn-appliance:<version>` from the appliance's package.json (source tree or compiled `dist/`). */
function defaultClientTag(): string {
  for (const rel of ['../../../package.json', '../../../../package.json']) {
    try {
      const url = new URL(rel, import.meta.url);
      if (!existsSync(url)) continue;
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'ecdn-appliance' && typeof pkg.version === 'string') {
        return `ecdn-appliance:${pkg.version}`;
      }
    } catch {
      // try the next candidate
    }
  }
  return 'ecdn-appliance:0.0.0';
}

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name, jpath) => name === 'item' && String(jpath).endsWith('error.args.item'),
});

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `args` as the service sends it: `{NAME: value}`, or (older servers) `[{name, value}]`. */
function normaliseArgs(args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(args)) {
    for (const a of args) {
      if (isRecord(a) && typeof a.name === 'string') out[a.name] = String(a.value ?? '');
    }
  } else if (isRecord(args)) {
    for (const [k, v] of Object.entries(args)) {
      if (k !== 'objectType') out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  return out;
}

interface RawException {
  code: string;
  message: string;
  args: Record<string, string>;
}

/** The exception object in a JSON answer, if that is what it is. */
function jsonException(value: unknown): RawException | undefined {
  if (!isRecord(value) || value.objectType !== 'KalturaAPIException' || typeof value.code !== 'string') {
    return undefined;
  }
  return {
    code: value.code,
    message: typeof value.message === 'string' ? value.message : '',
    args: normaliseArgs(value.args),
  };
}

/** The exception in the XML form `<xml><result><error><code/><message/>[<args>]</error></result></xml>`. */
function xmlException(text: string): RawException | undefined {
  if (!/<error[\s>]/.test(text)) return undefined;
  let doc: unknown;
  try {
    doc = xmlParser.parse(text);
  } catch {
    return undefined;
  }
  const xml = isRecord(doc) ? doc.xml : undefined;
  const result = isRecord(xml) ? xml.result : undefined;
  const error = isRecord(result) ? result.error : undefined;
  if (!isRecord(error) || typeof error.code !== 'string' || error.code === '') return undefined;
  const argsNode = error.args;
  const args = normaliseArgs(isRecord(argsNode) ? argsNode.item : undefined);
  return { code: error.code, message: typeof error.message === 'string' ? error.message : '', args };
}

/** The `extraParams` path value: JSON with `/` escaped (`\u002f`) so no slash reaches the path, then URL-encoded. */
function encodeExtraParams(extraParams: Record<string, string | number>): string {
  return encodeURIComponent(JSON.stringify(extraParams).replace(/\//g, '\\u002f'));
}

export class KalturaClient {
  private readonly serviceUrl: string;
  private readonly clientTag: string;
  private readonly applicationName: string;
  private readonly now: () => number;
  private readonly fetchFn: Fetch;
  private current: { ks: string; issuedAt: number } | undefined;
  /** Every KS this client has issued (to redact them from messages); bounded. */
  private readonly issued: string[] = [];
  /** The conversion profile service name that answered last. */
  private profileService: string = CONVERSION_PROFILE_SERVICES[0];

  constructor(
    private readonly config: KalturaClientConfig,
    deps: { now?: () => number; fetch?: Fetch } = {},
  ) {
    this.serviceUrl = config.serviceUrl.replace(/\/+$/, '');
    this.clientTag = config.clientTag ?? defaultClientTag();
    this.applicationName = config.applicationName ?? 'kLive';
    this.now = deps.now ?? Date.now;
    this.fetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The current KS; regenerated when older than 23 h, or after {@link invalidateKs}. Never logged. */
  ks(): string {
    const now = this.now();
    if (!this.current || now - this.current.issuedAt >= KS_RENEW_AFTER_MS || now < this.current.issuedAt) {
      const { ks } = generateKs({
        partnerId: this.config.partnerId,
        adminSecret: this.config.adminSecret,
        expirySeconds: KS_EXPIRY_SECONDS,
        now,
      });
      this.current = { ks, issuedAt: now };
      this.issued.push(ks);
      if (this.issued.length > 16) this.issued.shift();
    }
    return this.current.ks;
  }

  invalidateKs(): void {
    this.current = undefined;
  }

  /**
   * POST `<serviceUrl>/api_v3/service/<service>/action/<action>` with a JSON body: params + ks + format 1 +
   * clientTag + apiVersion (+ partnerId when impersonating). An INVALID_KS / EXPIRED_KS exception
   * regenerates the KS and retries once.
   */
  async call<T>(
    service: string,
    action: string,
    params: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<T> {
    const what = `${service}.${action}`;
    const url = `${this.serviceUrl}/api_v3/service/${encodeURIComponent(service)}/action/${encodeURIComponent(action)}`;
    for (let attempt = 0; ; attempt++) {
      const ks = this.ks();
      const body: Record<string, unknown> = {
        ...params,
        ks,
        format: 1,
        clientTag: this.clientTag,
        apiVersion: KALTURA_API_VERSION,
      };
      // `partnerId` is impersonation: only ever sent when asked for (the -5 mode), never from params.
      if (opts.impersonate !== undefined) body.partnerId = opts.impersonate;
      else delete body.partnerId;
      const secrets = this.secrets(params);
      const res = await this.request(
        what,
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
        },
        secrets,
      );
      if (res.status < 200 || res.status > 299) {
        throw new KalturaTransportError('http', `Kaltura ${what}: HTTP ${res.status}`, res.status);
      }
      let value: unknown;
      try {
        value = res.text.trim() === '' ? null : JSON.parse(res.text);
      } catch {
        const ex = xmlException(res.text);
        if (!ex) throw new KalturaTransportError('parse', `Kaltura ${what}: the answer is not JSON`);
        value = { objectType: 'KalturaAPIException', ...ex };
      }
      const ex = jsonException(value);
      if (!ex) return value as T;
      if (KS_ERROR_CODES.has(ex.code) && attempt === 0) {
        if (this.current?.ks === ks) this.invalidateKs();
        continue;
      }
      throw this.apiError(ex, secrets);
    }
  }

  /** liveStream.authenticate: entryId, token, hostname, mediaServerIndex, applicationName. */
  async authenticate(
    entryId: string,
    token: string,
    serverIndex: 0 | 1,
    opts: CallOptions = {},
  ): Promise<KalturaLiveStreamEntry> {
    const entry = await this.call<unknown>(
      'liveStream',
      'authenticate',
      {
        entryId,
        token,
        hostname: this.config.hostname,
        mediaServerIndex: serverIndex,
        applicationName: this.applicationName,
      },
      opts,
    );
    return this.liveEntry('liveStream.authenticate', entry);
  }

  /** liveStream.get (to find an entry's partner when running as -5). */
  async getEntry(entryId: string): Promise<KalturaLiveStreamEntry> {
    const entry = await this.call<unknown>('liveStream', 'get', { entryId });
    return this.liveEntry('liveStream.get', entry);
  }

  /** liveStream.registerMediaServer; status PLAYABLE = 1, BROADCASTING = 2. Repeated as a keep-alive. */
  async registerMediaServer(
    entryId: string,
    serverIndex: 0 | 1,
    status: 1 | 2,
    opts: CallOptions = {},
  ): Promise<void> {
    await this.call<unknown>(
      'liveStream',
      'registerMediaServer',
      {
        entryId,
        hostname: this.config.hostname,
        mediaServerIndex: serverIndex,
        applicationName: this.applicationName,
        liveEntryStatus: status,
      },
      opts,
    );
  }

  /** liveStream.unregisterMediaServer (on the last unpublish of the entry). */
  async unregisterMediaServer(entryId: string, serverIndex: 0 | 1, opts: CallOptions = {}): Promise<void> {
    await this.call<unknown>(
      'liveStream',
      'unregisterMediaServer',
      { entryId, hostname: this.config.hostname, mediaServerIndex: serverIndex },
      opts,
    );
  }

  /**
   * GET `<serviceUrl>/api_v3/index.php/service/wowza_liveConversionProfile/action/serve/streamName/<name>/
   * f/transcode.xml/extraParams/<url-encoded JSON>/ks/<KS>` → the transcoder XML. When the service does not
   * exist there (SERVICE_DOES_NOT_EXIST(S) / SERVICE_FORBIDDEN / HTTP 404) the other name is tried once.
   */
  async conversionProfile(streamName: string, extraParams: Record<string, string | number>): Promise<string> {
    const names: string[] = [
      this.profileService,
      ...CONVERSION_PROFILE_SERVICES.filter((n) => n !== this.profileService),
    ];
    let nameIndex = 0;
    let ksRetried = false;
    for (;;) {
      const service = names[nameIndex] ?? CONVERSION_PROFILE_SERVICES[0];
      const what = `${service}.serve`;
      const ks = this.ks();
      const url =
        `${this.serviceUrl}/api_v3/index.php/service/${service}/action/serve` +
        `/streamName/${encodeURIComponent(streamName)}/f/transcode.xml` +
        `/extraParams/${encodeExtraParams(extraParams)}/ks/${urlSafeKs(ks)}`;
      const secrets = this.secrets({});
      const res = await this.request(
        what,
        url,
        { method: 'GET', headers: { accept: 'text/xml, application/xml, application/json' } },
        secrets,
      );
      const tryOtherName = nameIndex + 1 < names.length;
      if (res.status === 404 && tryOtherName) {
        nameIndex++;
        continue;
      }
      if (res.status < 200 || res.status > 299) {
        throw new KalturaTransportError('http', `Kaltura ${what}: HTTP ${res.status}`, res.status);
      }
      const text = res.text.trim();
      let ex: RawException | undefined;
      if (text.startsWith('{')) {
        try {
          ex = jsonException(JSON.parse(text));
        } catch {
          ex = undefined;
        }
        if (!ex)
          throw new KalturaTransportError('parse', `Kaltura ${what}: the answer is not transcoder XML`);
      } else {
        ex = xmlException(text);
      }
      if (!ex) {
        if (!text.startsWith('<')) {
          throw new KalturaTransportError('parse', `Kaltura ${what}: the answer is not transcoder XML`);
        }
        this.profileService = service;
        return res.text;
      }
      if (NO_SERVICE_CODES.has(ex.code) && tryOtherName) {
        nameIndex++;
        continue;
      }
      if (KS_ERROR_CODES.has(ex.code) && !ksRetried) {
        ksRetried = true;
        if (this.current?.ks === ks) this.invalidateKs();
        continue;
      }
      throw this.apiError(ex, secrets);
    }
  }

  /** partner.getInfo: proves the binding (partner id + admin secret + service URL). */
  async verifyBinding(): Promise<{ partnerId: number; name?: string }> {
    const partner = await this.call<unknown>('partner', 'getInfo', {});
    if (!isRecord(partner) || typeof partner.id !== 'number') {
      throw new KalturaTransportError('parse', 'Kaltura partner.getInfo: the answer is not a KalturaPartner');
    }
    return {
      partnerId: partner.id,
      ...(typeof partner.name === 'string' ? { name: partner.name } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------------------

  private liveEntry(what: string, value: unknown): KalturaLiveStreamEntry {
    if (
      !isRecord(value) ||
      typeof value.id !== 'string' ||
      typeof value.partnerId !== 'number' ||
      (value.objectType !== undefined && typeof value.objectType !== 'string')
    ) {
      throw new KalturaTransportError('parse', `Kaltura ${what}: the answer is not a KalturaLiveStreamEntry`);
    }
    return {
      ...value,
      objectType: 'KalturaLiveStreamEntry',
      name: typeof value.name === 'string' ? value.name : '',
    } as KalturaLiveStreamEntry;
  }

  /** The strings that may never appear in a message: the admin secret, every KS issued, a token. */
  private secrets(params: Record<string, unknown>): string[] {
    const out = [this.config.adminSecret, ...this.issued];
    for (const ks of this.issued) {
      out.push(urlSafeKs(ks), encodeURIComponent(ks));
      // The signature alone (hex before `|`) would let a KS be rebuilt from its readable info.
      const sig = Buffer.from(ks, 'base64').toString('utf8').split('|')[0];
      if (sig) out.push(sig);
    }
    if (typeof params.token === 'string') out.push(params.token, encodeURIComponent(params.token));
    return out.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  }

  private redact(text: string, secrets: string[]): string {
    let out = text;
    for (const s of secrets) out = out.split(s).join(REDACTED);
    return out;
  }

  private apiError(ex: RawException, secrets: string[]): KalturaApiError {
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(ex.args)) args[k] = this.redact(v, secrets);
    // The INVALID_KS message names the KS it refused: it is redacted with the rest.
    return new KalturaApiError(ex.code, this.redact(ex.message || ex.code, secrets), args);
  }

  /** One HTTP exchange, body included, within `timeoutMs`. */
  private async request(
    what: string,
    url: string,
    init: RequestInit,
    secrets: string[],
  ): Promise<{ status: number; text: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeoutMs);
    try {
      const res = await this.fetchFn(url, { ...init, signal: controller.signal, redirect: 'follow' });
      const text = await res.text();
      return { status: res.status, text };
    } catch (err) {
      if (timedOut) {
        throw new KalturaTransportError(
          'timeout',
          `Kaltura ${what}: no answer within ${this.config.timeoutMs} ms`,
        );
      }
      throw new KalturaTransportError(
        'network',
        `Kaltura ${what}: ${this.redact(describeNetworkError(err), secrets)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `connect ECONNREFUSED 127.0.0.1:1234` rather than fetch's bare "fetch failed". */
function describeNetworkError(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = e?.cause;
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return typeof e?.message === 'string' ? e.message : 'network error';
}
