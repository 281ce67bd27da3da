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
  /**
   * This appliance's server node name at Kaltura (`hostname` of authenticate / registerMediaServer /
   * unregisterMediaServer, `hostName` of serverNode.reportStatus): a registered media server node's host name.
   */
  serverNodeName: string;
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

/** serverNode.reportStatus `serverNodeStatus` (ServerNodeStatus). */
export const SERVER_NODE_STATUS = { ACTIVE: 1, NOT_OPERATIONAL: 5 } as const;
export type ServerNodeStatus = (typeof SERVER_NODE_STATUS)[keyof typeof SERVER_NODE_STATUS];

/** The conversion profile service, as kaltura/server deploys it (the seed README's other name exists nowhere). */
export const CONVERSION_PROFILE_SERVICE = 'wowza_liveConversionProfile';

/** An entry id that cannot exist (real ids are `<digit>_<8 characters>`): the permission probe asks for it. */
export const PROBE_ENTRY_ID = 'ecdn-binding-probe';

/** The exception code after which a fresh KS is generated and the call retried once (an expired KS too). */
const KS_ERROR_CODE = 'INVALID_KS';

const REDACTED = '[redacted]';

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why a service URL may not be used, or undefined: it must be `https://`, except on loopback (a test
 * double or a local proxy). A KS is a bearer credential: it never crosses a network in the clear.
 */
export function serviceUrlProblem(serviceUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return 'the service URL is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname)) return undefined;
  if (url.protocol === 'http:')
    return 'the service URL must be https:// (a KS may not travel unencrypted; http:// is accepted only on loopback)';
  return 'the service URL must be an https:// URL';
}

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

  constructor(
    private readonly config: KalturaClientConfig,
    deps: { now?: () => number; fetch?: Fetch } = {},
  ) {
    const problem = serviceUrlProblem(config.serviceUrl);
    if (problem) throw new Error(problem);
    this.serviceUrl = config.serviceUrl.replace(/\/+$/, '');
    this.clientTag = config.clientTag ?? defaultClientTag();
    this.applicationName = config.applicationName ?? 'kLive';
    this.now = deps.now ?? Date.now;
    this.fetchFn = deps.fetch ?? ((input, init) => fetch(input, init));
  }

  /** This appliance's server node name at Kaltura. */
  get serverNodeName(): string {
    return this.config.serverNodeName;
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
   * clientTag + apiVersion (+ partnerId when impersonating). An INVALID_KS exception (a revoked or expired
   * KS: the service has no separate code for that) regenerates the KS and retries once.
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
      if (ex.code === KS_ERROR_CODE && attempt === 0) {
        if (this.current?.ks === ks) this.invalidateKs();
        continue;
      }
      throw this.apiError(ex, secrets);
    }
  }

  /** liveStream.authenticate: entryId, token, hostname (the server node name), mediaServerIndex, applicationName. */
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
        hostname: this.config.serverNodeName,
        // KalturaEntryServerNodeType is a string enum ("0", "1").
        mediaServerIndex: String(serverIndex),
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

  /**
   * liveStream.registerMediaServer; status PLAYABLE = 1, BROADCASTING = 2. Repeated as a keep-alive. The
   * appliance keeps its own recording, so it asks for no Kaltura "recorded entry" (shouldCreateRecordedEntry).
   */
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
        hostname: this.config.serverNodeName,
        mediaServerIndex: String(serverIndex),
        applicationName: this.applicationName,
        liveEntryStatus: status,
        shouldCreateRecordedEntry: false,
      },
      opts,
    );
  }

  /** liveStream.unregisterMediaServer (on the last unpublish of the entry). */
  async unregisterMediaServer(entryId: string, serverIndex: 0 | 1, opts: CallOptions = {}): Promise<void> {
    await this.call<unknown>(
      'liveStream',
      'unregisterMediaServer',
      { entryId, hostname: this.config.serverNodeName, mediaServerIndex: String(serverIndex) },
      opts,
    );
  }

  /**
   * serverNode.reportStatus: the node's heartbeat and status. With `node` (e.g. `objectType`
   * `KalturaWowzaMediaServerNode`, `hostName`, `name`), the service creates the node when it has none of that
   * host name. Needs the partner feature FEATURE_SERVER_NODE.
   */
  async reportServerNodeStatus(
    hostName: string,
    node: { objectType: string; hostName: string; name: string; [k: string]: unknown } | undefined,
    status: ServerNodeStatus,
  ): Promise<{ id?: number; status?: number }> {
    const answer = await this.call<unknown>('serverNode', 'reportStatus', {
      hostName,
      ...(node ? { serverNode: node } : {}),
      serverNodeStatus: status,
    });
    if (!isRecord(answer)) {
      throw new KalturaTransportError(
        'parse',
        'Kaltura serverNode.reportStatus: the answer is not a server node',
      );
    }
    return {
      ...(typeof answer.id === 'number' ? { id: answer.id } : {}),
      ...(typeof answer.status === 'number' ? { status: answer.status } : {}),
    };
  }

  /**
   * beacon.add (the plugin service `beacon_beacon`), as the Kaltura media server reports ingest problems: an
   * ENTRY_BEACON (4) on the entry, `eventType` `<index>_healthData`, the alert as JSON in `privateData`.
   */
  async addBeacon(
    beacon: { objectId: string; eventType: string; privateData: string },
    opts: CallOptions = {},
  ): Promise<void> {
    await this.call<unknown>(
      'beacon_beacon',
      'add',
      { beacon: { objectType: 'KalturaBeacon', relatedObjectType: '4', ...beacon }, shouldLog: 1 },
      opts,
    );
  }

  /**
   * GET `<serviceUrl>/api_v3/index.php/service/wowza_liveConversionProfile/action/serve/streamName/<name>/
   * f/transcode.xml/extraParams/<url-encoded JSON>/ks/<KS>` → the transcoder XML. `serve` is a file action:
   * an exception inside it is an empty 200 whose `X-Kaltura` / `X-Kaltura-App` headers name the code and the
   * message; one before it (a bad KS) is the usual exception body.
   */
  async conversionProfile(streamName: string, extraParams: Record<string, string | number>): Promise<string> {
    const service = CONVERSION_PROFILE_SERVICE;
    const what = `${service}.serve`;
    for (let attempt = 0; ; attempt++) {
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
      if (res.status < 200 || res.status > 299) {
        throw new KalturaTransportError('http', `Kaltura ${what}: HTTP ${res.status}`, res.status);
      }
      const text = res.text.trim();
      let ex: RawException | undefined = headerException(res.headers);
      if (!ex && text.startsWith('{')) {
        try {
          ex = jsonException(JSON.parse(text));
        } catch {
          ex = undefined;
        }
        if (!ex)
          throw new KalturaTransportError('parse', `Kaltura ${what}: the answer is not transcoder XML`);
      } else if (!ex) {
        ex = xmlException(text);
      }
      if (!ex) {
        if (!text.startsWith('<')) {
          throw new KalturaTransportError(
            'parse',
            `Kaltura ${what}: the answer is ${text === '' ? 'empty' : 'not transcoder XML'}`,
          );
        }
        return res.text;
      }
      if (ex.code === KS_ERROR_CODE && attempt === 0) {
        if (this.current?.ks === ks) this.invalidateKs();
        continue;
      }
      throw this.apiError(ex, secrets);
    }
  }

  /** partner.getInfo: proves the partner id, the admin secret and the service URL (not the eCDN permission). */
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

  /**
   * Whether the partner may call liveStream.authenticate at all (the Hybrid eCDN permission): asks for an entry
   * that cannot exist, without a host name (so no server node is involved). ENTRY_ID_NOT_FOUND means permitted;
   * anything else (SERVICE_FORBIDDEN) is thrown.
   */
  async probeLiveAccess(): Promise<void> {
    try {
      await this.call<unknown>('liveStream', 'authenticate', { entryId: PROBE_ENTRY_ID, token: 'probe' });
    } catch (err) {
      if (err instanceof KalturaApiError && err.code === 'ENTRY_ID_NOT_FOUND') return;
      throw err;
    }
    throw new KalturaTransportError(
      'parse',
      `Kaltura liveStream.authenticate: the service accepted the entry "${PROBE_ENTRY_ID}", which cannot exist`,
    );
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

  /**
   * One HTTP exchange, body included, within `timeoutMs`. No redirect is followed: an http→https redirect turns
   * a POST into a body-less GET, and a KS must go nowhere but the configured service.
   */
  private async request(
    what: string,
    url: string,
    init: RequestInit,
    secrets: string[],
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.config.timeoutMs);
    try {
      const res = await this.fetchFn(url, { ...init, signal: controller.signal, redirect: 'manual' });
      const text = await res.text();
      if (res.status >= 300 && res.status < 400) {
        const to = res.headers.get('location');
        let where = '';
        try {
          where = to ? ` to ${new URL(to, url).origin}` : '';
        } catch {
          where = '';
        }
        throw new KalturaTransportError(
          'http',
          `Kaltura ${what}: the service answered with a redirect (HTTP ${res.status}${where}); ` +
            'set the service URL to the address it leads to',
          res.status,
        );
      }
      return { status: res.status, text, headers: res.headers };
    } catch (err) {
      if (err instanceof KalturaTransportError) throw err;
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

/**
 * The exception of a `@return file` action (serve): HTTP 200, no body, `X-Kaltura: error- <CODE>` and
 * `X-Kaltura-App: exiting on error <CODE> - <message>` (kRendererDieError).
 */
function headerException(headers: Headers): RawException | undefined {
  const k = headers.get('x-kaltura') ?? '';
  const m = /(?:^|[\s,])error-\s*([A-Za-z0-9_]+)/.exec(k);
  const app = headers.get('x-kaltura-app') ?? '';
  const a = /exiting on error\s+([A-Za-z0-9_]+)\s*-\s*([\s\S]*)$/.exec(app);
  const code = m?.[1] ?? a?.[1];
  if (!code) return undefined;
  const message = a && a[1] === code ? (a[2] ?? '').trim() : '';
  return { code, message, args: {} };
}

/** `connect ECONNREFUSED 127.0.0.1:1234` rather than fetch's bare "fetch failed". */
function describeNetworkError(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = e?.cause;
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return typeof e?.message === 'string' ? e.message : 'network error';
}
