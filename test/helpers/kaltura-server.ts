/**
 * A Kaltura-compatible API server for the test suite (node:http on 127.0.0.1, random port). It applies what
 * kaltura/server itself checks (see ../shared/design/kaltura.md, "What a real server checks"), independently
 * of the appliance's own code, so a client cannot pass by accident:
 * - the KS: decoded, its SHA-1 signature compared as the server does (lower-case hex, exactly), the secret of
 *   the partner inside it, expiry against a settable clock (an expired KS is INVALID_KS with -5 EXPIRED:
 *   there is no separate code), ADMIN type, revocation;
 * - the permission gate: liveStream.authenticate/registerMediaServer/unregisterMediaServer only for partner
 *   -5 or a partner with FEATURE_HYBRID_ECDN, else SERVICE_FORBIDDEN; the serverNode service only with
 *   FEATURE_SERVER_NODE;
 * - server nodes: created and kept alive by serverNode.reportStatus, "registered" only while ACTIVE with a
 *   heartbeat younger than 120 s; authenticate and registerMediaServer with `hostname` and
 *   `mediaServerIndex` need a media server node of that host name (MEDIA_SERVER_NOT_FOUND), and
 *   unregisterMediaServer answers SERVER_NODE_NOT_FOUND / ENTRY_SERVER_NODE_NOT_FOUND;
 * - registerMediaServer's `shouldCreateRecordedEntry` (default true) creates a recorded entry;
 * - the conversion profile's `serve` is a file action: its exceptions are an empty HTTP 200 with
 *   `X-Kaltura` / `X-Kaltura-App` headers; the source audio passes through only for `AAC`; only
 *   `wowza_liveConversionProfile` exists;
 * - request decoding: a JSON body only with `Content-Type: application/json` exactly (case aside), the URL's
 *   path and query parameters overriding the body's; mandatory parameters; enum values;
 * - errors as HTTP 200 exception objects (JSON for format=1, else XML); beacon.add stores health beacons.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const FEATURE_HYBRID_ECDN = 'FEATURE_HYBRID_ECDN';
export const FEATURE_SERVER_NODE = 'FEATURE_SERVER_NODE';
/** What a partner set up for eCDN has: the Hybrid eCDN feature and server nodes. */
export const ECDN_FEATURES: readonly string[] = [FEATURE_HYBRID_ECDN, FEATURE_SERVER_NODE];

/** ServerNodeStatus. */
export const NODE_STATUS = { ACTIVE: 1, DISABLED: 2, DELETED: 3, NOT_REGISTERED: 4, NOT_OPERATIONAL: 5 };
/** ServerNode::SERVER_NODE_TTL_TIME: a node older than this is not registered for routing. */
export const SERVER_NODE_TTL_MS = 120_000;

export interface FakePartner {
  id: number;
  adminSecret: string;
  name?: string;
  /** Partner features (permissions) switched on in the admin console; none by default. */
  features?: readonly string[];
}

export interface FakeEntry {
  id: string;
  partnerId: number;
  token: string;
  name: string;
  conversionProfileId?: number;
  recordStatus?: number;
  dvrStatus?: number;
  dvrWindow?: number;
  segmentDuration?: number;
  /** The entry's SRT passphrase (`srtPass`, 10 to 79 characters), when it has one. */
  srtPass?: string;
}

/**
 * The `ep` of an entry's SRT stream id: Kaltura encrypts the SRT passphrase with the deployment's live key
 * (kBroadcastUrlManager::getEncryptedSrtPass, AES then URL-safe base64); the double uses AES-256-CBC with a
 * key of its own, the same shape.
 */
export function encryptedSrtPass(srtPass: string): string {
  const key = crypto.createHash('sha256').update('fake-kaltura-live-key').digest();
  const iv = Buffer.alloc(16, 7);
  const c = crypto.createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([c.update(srtPass, 'utf8'), c.final()]).toString('base64url');
}

export type FakeNodeType = 'wowza' | 'edge';

export interface FakeServerNode {
  id: number;
  partnerId: number;
  hostName: string;
  name: string;
  type: FakeNodeType;
  status: number;
  /** ms by the fake's clock; undefined = never reported. */
  heartbeatTime?: number;
  /** Fields of the object reportStatus created it with (e.g. playbackHostName of an edge). */
  fields: Record<string, unknown>;
}

export interface FakeKalturaOptions {
  partners: FakePartner[];
  entries: FakeEntry[];
  /** Server nodes that exist before the test (created in the admin console). */
  serverNodes?: Array<Partial<FakeServerNode> & { hostName: string; partnerId: number }>;
  profileXml?: (streamName: string, extraParams: Record<string, unknown>, entry: FakeEntry) => string;
}

export interface FakeCall {
  service: string;
  action: string;
  params: Record<string, unknown>;
  ksPartnerId?: number;
  at: number;
  /** 'ok' or the exception code answered. */
  outcome: 'ok' | string;
  /** The request's Content-Type header. */
  contentType: string;
  method: string;
}

export interface FakeBeacon {
  partnerId: number;
  relatedObjectType: string;
  eventType: string;
  objectId: string;
  privateData: string;
  at: number;
}

/** Message templates of the real server (KalturaErrors / APIErrors), `@ARG@` substituted. */
const TEMPLATES: Record<string, { args: string[]; message: string }> = {
  MISSING_KS: { args: [], message: 'Missing KS, session not established' },
  INVALID_KS: {
    args: ['KSID', 'ERR_CODE', 'ERR_DESC'],
    message: 'Invalid KS "@KSID@", Error "@ERR_CODE@,@ERR_DESC@"',
  },
  SERVICE_DOES_NOT_EXISTS: { args: ['SRV_NAME'], message: 'Service "@SRV_NAME@" does not exists' },
  ACTION_DOES_NOT_EXISTS: {
    args: ['ACTION_NAME', 'SERVICE_NAME'],
    message: 'Action "@ACTION_NAME@" does not exists for service "@SERVICE_NAME@"',
  },
  SERVICE_FORBIDDEN: { args: ['SERVICE'], message: 'The access to service [@SERVICE@] is forbidden' },
  MISSING_MANDATORY_PARAMETER: { args: ['PARAM_NAME'], message: 'Missing parameter "@PARAM_NAME@"' },
  INVALID_ENUM_VALUE: {
    args: ['ENUM_VAL', 'PARAM_NAME', 'ENUM_TYPE'],
    message:
      'Invalid enumeration value "@ENUM_VAL@" for parameter "@PARAM_NAME@", expecting enumeration type "@ENUM_TYPE@"',
  },
  PROPERTY_VALIDATION_CANNOT_BE_NULL: {
    args: ['PROP_NAME'],
    message: 'The property "@PROP_NAME@" cannot be null',
  },
  PROPERTY_VALIDATION_MIN_LENGTH: {
    args: ['PROP_NAME', 'MIN_LEN'],
    message: 'The property "@PROP_NAME@" must have a min length of @MIN_LEN@ characters',
  },
  ENTRY_ID_NOT_FOUND: { args: ['ENTRY_ID'], message: 'Entry id "@ENTRY_ID@" not found' },
  INVALID_STREAM_NAME: { args: ['STREAM_NAME'], message: 'Invalid stream name [@STREAM_NAME@]' },
  INGEST_NOT_FOUND_IN_CONVERSION_PROFILE: {
    args: ['INGEST_NAME'],
    message: 'Ingest [@INGEST_NAME@] not found in conversion profile',
  },
  LIVE_STREAM_INVALID_TOKEN: {
    args: ['ENTRY_ID'],
    message: 'Invalid token supplied for live entry [@ENTRY_ID@]',
  },
  LIVE_STREAM_EXCEEDED_MAX_PASSTHRU: {
    args: ['ENTRY_ID'],
    message: 'Partner exceeded max pass-through live streams in entry[@ENTRY_ID@]',
  },
  LIVE_STREAM_EXCEEDED_MAX_TRANSCODED: {
    args: ['ENTRY_ID'],
    message: 'Partner exceeded max concurrent transcoded live streams in entry[@ENTRY_ID@]',
  },
  MEDIA_SERVER_NOT_FOUND: { args: ['HOST_NAME'], message: 'Media server [@HOST_NAME@] not found' },
  SERVER_NODE_NOT_FOUND: {
    args: ['HOST_NAME'],
    message: 'Server node with host name [@HOST_NAME@] not found',
  },
  ENTRY_SERVER_NODE_NOT_FOUND: {
    args: ['ENTRY_ID', 'SERVER_TYPE'],
    message: 'Entry server node with entry id [@ENTRY_ID@] and server type [@SERVER_TYPE@] not found',
  },
  HOST_NAME_ALREADY_EXISTS: { args: ['HOST_NAME'], message: 'Host Name [@HOST_NAME@] already exists' },
  SERVER_NODE_PROVIDED_AS_PARENT_NOT_FOUND: {
    args: ['NODE_IDS'],
    message: 'The following parentIds where not found [@NODE_IDS@]',
  },
  SERVICE_FORBIDDEN_CONTENT_BLOCKED: {
    args: [],
    message: 'The access to this service is forbidden since the specified partner is blocked',
  },
};

class ApiException {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly args: Record<string, string>,
  ) {}

  static of(code: string, ...values: string[]): ApiException {
    const t = TEMPLATES[code];
    if (!t) return new ApiException(code, `Injected failure ${code}`, {});
    const args: Record<string, string> = {};
    t.args.forEach((name, i) => (args[name] = values[i] ?? ''));
    let message = t.message;
    for (const [k, v] of Object.entries(args)) message = message.split(`@${k}@`).join(v);
    return new ApiException(code, message, args);
  }
}

/** Mandatory parameters per `service.action` (lower case); the keys are the services and actions that exist. */
const MANDATORY: Record<string, string[]> = {
  'livestream.authenticate': ['entryId', 'token'],
  'livestream.get': ['entryId'],
  'livestream.registermediaserver': ['entryId', 'hostname', 'mediaServerIndex'],
  'livestream.unregistermediaserver': ['entryId', 'hostname', 'mediaServerIndex'],
  'partner.getinfo': [],
  'servernode.reportstatus': ['hostName'],
  'beacon_beacon.add': ['beacon'],
  'wowza_liveconversionprofile.serve': ['streamName'],
};

/** Actions behind MEDIA_SERVER_PARTNER_LEVEL, which FEATURE_HYBRID_ECDN grants (service.livestream.ini). */
const HYBRID_ECDN_ACTIONS = new Set([
  'livestream.authenticate',
  'livestream.registermediaserver',
  'livestream.unregistermediaserver',
]);

/**
 * The properties a KalturaEdgeServerNode has besides hostName and name (KalturaServerNode, KalturaDeliveryServerNode,
 * KalturaEdgeServerNode); the API ignores any other property it is sent, so the double keeps only these.
 */
const EDGE_NODE_FIELDS = [
  'systemName',
  'description',
  'tags',
  'dc',
  'parentId',
  'environment',
  'deliveryProfileIds',
  'config',
  'playbackDomain',
];

/** serverNode objectTypes reportStatus can create, and whether they are media server nodes. */
const NODE_OBJECT_TYPES: Record<string, FakeNodeType> = {
  KalturaWowzaMediaServerNode: 'wowza',
  KalturaEdgeServerNode: 'edge',
};

const ENTRY_SERVER_NODE_STATUSES = ['0', '1', '2', '3', '4'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A value as the XML format writes it (objects as nested elements, arrays as `<item>`s). */
function toXml(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<item>${toXml(v)}</item>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** JSON output drops null fields. */
function dropNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * kaltura.md-style transcoder XML: passthrough `source`, 720p and 360p H.264, none taller than the ingest.
 * As the real server builds it, the renditions pass the source audio through only when the ingest says
 * `audiocodecidstring: "AAC"` (Wowza's spelling); anything else is re-encoded to AAC in every rendition.
 */
export function defaultProfileXml(
  streamName: string,
  extraParams: Record<string, unknown>,
  entry: FakeEntry,
): string {
  const ladder = [
    { name: '33', height: 720, video: 2_500_000, audio: 128_000 },
    { name: '35', height: 360, video: 900_000, audio: 96_000 },
  ];
  const h = Number(extraParams.height);
  const encodes = ladder.filter((r) => !(Number.isFinite(h) && h > 0 && r.height > h));
  void streamName;
  const audioPassThru = extraParams.audiocodecidstring === 'AAC';
  const source =
    `<Encode><Enable>true</Enable><Name>source</Name><StreamName>${entry.id}_32</StreamName>` +
    `<Video><Codec>PassThru</Codec></Video><Audio><Codec>PassThru</Codec></Audio></Encode>`;
  const rendered = encodes.map(
    (r) =>
      `<Encode><Enable>true</Enable><Name>${r.name}</Name><StreamName>mp4:${entry.id}_${r.name}</StreamName>` +
      `<Video><Transcoder>default</Transcoder><GPUID>-1</GPUID>` +
      `<FrameSize><FitMode>fit-height</FitMode><Height>${r.height}</Height></FrameSize>` +
      `<Codec>H.264</Codec><Profile>main</Profile><Bitrate>${r.video}</Bitrate>` +
      `<KeyFrameInterval><FollowSource>true</FollowSource><Interval>60</Interval></KeyFrameInterval>` +
      `</Video>` +
      (audioPassThru
        ? `<Audio><Codec>PassThru</Codec></Audio>`
        : `<Audio><Codec>AAC</Codec><Bitrate>${r.audio}</Bitrate></Audio>`) +
      `</Encode>`,
  );
  const members = ['source', ...encodes.map((r) => r.name)]
    .map((n) => `<Member><EncodeName>${n}</EncodeName></Member>`)
    .join('');
  const fps = Number(extraParams.framerate);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Root><Transcode><Encodes>${source}${rendered.join('')}</Encodes>` +
    `<Decode><Video><Deinterlace>false</Deinterlace></Video></Decode>` +
    `<StreamNameGroups><StreamNameGroup><Name>all</Name><StreamName>\${SourceStreamName}_all</StreamName>` +
    `<Members>${members}</Members></StreamNameGroup></StreamNameGroups>` +
    `<Properties><Property><Name>sourceStreamFrameRate</Name><Value>${Number.isFinite(fps) && fps > 0 ? fps : 30}</Value>` +
    `<Type>Double</Type></Property></Properties></Transcode></Root>\n`
  );
}

interface KsInfo {
  partnerId: number;
  type: number;
  expiry: number;
}

/** An answer of a `@return file` action: the body as is, or (on an exception) empty with X-Kaltura headers. */
class FileAnswer {
  constructor(readonly body: string) {}
}

export class FakeKaltura {
  readonly calls: FakeCall[] = [];
  readonly beacons: FakeBeacon[] = [];
  /** Recorded entries registerMediaServer created (shouldCreateRecordedEntry), per live entry. */
  readonly recordedEntries: Array<{ id: string; rootEntryId: string; partnerId: number }> = [];
  /** Entry server nodes: `<entryId>/<index>` → the node's host name and the status last registered. */
  readonly entryServerNodes = new Map<string, { hostName: string; status: number }>();
  readonly serverNodes: FakeServerNode[] = [];
  /** Settable clock for KS expiry checks and heartbeats. */
  now: () => number = Date.now;

  private server: http.Server | undefined;
  private delayMs = 0;
  private readonly failures = new Map<string, { code: string; left: number }>();
  /** When each KS was first presented (ms, by `now`). */
  private readonly seen = new Map<string, number>();
  private readonly revoked = new Set<string>();
  private nextNodeId = 1;

  constructor(private readonly opts: FakeKalturaOptions) {
    for (const n of opts.serverNodes ?? []) this.addServerNode(n);
  }

  /** A node as the admin console creates it (ACTIVE, never reported unless `heartbeatTime` is given). */
  addServerNode(n: Partial<FakeServerNode> & { hostName: string; partnerId: number }): FakeServerNode {
    const node: FakeServerNode = {
      id: n.id ?? this.nextNodeId++,
      partnerId: n.partnerId,
      hostName: n.hostName,
      name: n.name ?? n.hostName,
      type: n.type ?? 'wowza',
      status: n.status ?? NODE_STATUS.ACTIVE,
      ...(n.heartbeatTime !== undefined ? { heartbeatTime: n.heartbeatTime } : {}),
      fields: n.fields ?? {},
    };
    this.serverNodes.push(node);
    return node;
  }

  /** Switches a partner feature on or off (the admin console's partner configuration). */
  setFeature(partnerId: number, feature: string, on: boolean): void {
    const p = this.partner(partnerId);
    if (!p) throw new Error(`no partner ${partnerId}`);
    const set = new Set(p.features ?? []);
    if (on) set.add(feature);
    else set.delete(feature);
    p.features = [...set];
  }

  /** The node of that host name that lookups find (status other than DISABLED), if any. */
  node(hostName: string, type?: FakeNodeType): FakeServerNode | undefined {
    return this.serverNodes.find(
      (n) =>
        n.hostName === hostName &&
        n.status !== NODE_STATUS.DISABLED &&
        (type === undefined || n.type === type),
    );
  }

  /** Registered for routing: ACTIVE with a heartbeat younger than 120 s (ServerNodePeer's heartbeat rule). */
  isRegistered(hostName: string, type?: FakeNodeType): boolean {
    const n = this.node(hostName, type);
    return (
      n !== undefined &&
      n.status === NODE_STATUS.ACTIVE &&
      n.heartbeatTime !== undefined &&
      this.now() - n.heartbeatTime < SERVER_NODE_TTL_MS
    );
  }

  /**
   * Whether access control's SERVE_FROM_REMOTE_SERVER would use this edge (kAccessControlServeRemoteEdgeServerAction):
   * registered itself, and so is every parent up its tree.
   */
  edgeServes(hostName: string): boolean {
    const n = this.node(hostName, 'edge');
    if (!n || !this.isRegistered(hostName, 'edge')) return false;
    const parents = String(n.fields.parentId ?? '')
      .split(',')
      .filter((id) => id.trim() !== '');
    return parents.every((id) => {
      const p = this.serverNodes.find((x) => String(x.id) === id.trim());
      return p !== undefined && p.hostName !== hostName && this.edgeServes(p.hostName);
    });
  }

  /** Starts listening; resolves with the service URL (`http://127.0.0.1:<port>`). */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      void this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Stops listening (later connections are refused) and drops open connections. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Answer every request after `ms` (0 = at once). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** Every KS presented at or before `timeMs` is revoked: INVALID_KS (-6, LOGOUT) from now on. */
  revokeSessionsBefore(timeMs: number): void {
    for (const [ks, firstSeen] of this.seen) if (firstSeen <= timeMs) this.revoked.add(ks);
  }

  /** The next `times` calls of `action` (`authenticate`, or `liveStream.authenticate`) fail with `code`. */
  failNext(action: string, code: string, times = 1): void {
    this.failures.set(action.toLowerCase(), { code, left: times });
  }

  // ---------------------------------------------------------------------------------------------------

  private partner(id: number): FakePartner | undefined {
    return this.opts.partners.find((p) => p.id === id);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (res.destroyed) return;

    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Body first: the URL's path and query parameters override it (infraRequestUtils::getRequestParams).
    const params: Record<string, unknown> = {};
    const body = Buffer.concat(chunks).toString('utf8');
    const contentType = req.headers['content-type'] ?? '';
    if (body !== '') {
      if (contentType.toLowerCase() === 'application/json') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          Object.assign(params, parsed);
        }
      } else if (contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) params[k] = v;
      }
      // Any other type (application/json; charset=utf-8 among them): the body is not read at all.
    }

    // Path: /api_v3[/index.php][/service/<s>/action/<a>][/k/v...]
    const segments = url.pathname.split('/').filter((s) => s !== '');
    if (segments[0] !== 'api_v3') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    let rest = segments.slice(1);
    if (rest[0] === 'index.php') rest = rest.slice(1);
    for (let i = 0; i + 1 < rest.length; i += 2) {
      params[decodeURIComponent(rest[i] ?? '')] = decodeURIComponent(rest[i + 1] ?? '');
    }
    for (const [k, v] of url.searchParams) params[k] = v;
    const service = typeof params.service === 'string' ? params.service : '';
    const action = typeof params.action === 'string' ? params.action : '';
    delete params.service;
    delete params.action;

    const format = String(params.format ?? '2') === '1' ? 'json' : 'xml';
    const call: FakeCall = {
      service,
      action,
      params,
      at: this.now(),
      outcome: 'ok',
      contentType,
      method: req.method ?? 'GET',
    };
    this.calls.push(call);
    const fileAction = PROFILE_SERVICE === service.toLowerCase() && action.toLowerCase() === 'serve';
    try {
      const result = this.dispatch(service, action, params, call);
      if (result instanceof FileAnswer) {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(result.body);
      } else if (format === 'json') {
        res
          .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify(result ?? null));
      } else {
        res
          .writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
          .end(
            `<?xml version="1.0" encoding="utf-8"?><xml><result>${toXml(result)}</result>` +
              `<executionTime>0.001</executionTime></xml>`,
          );
      }
    } catch (err) {
      if (!(err instanceof ApiException)) throw err;
      call.outcome = err.code;
      if (fileAction && !(err instanceof EarlyException)) {
        // KalturaDispatcher + kRendererDieError: a `@return file` action dies with headers and no body.
        res
          .writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'x-kaltura': `error- ${err.code}`,
            'x-kaltura-app': `exiting on error ${err.code} - ${err.message}`,
          })
          .end();
        return;
      }
      if (format === 'json') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(
          JSON.stringify({
            code: err.code,
            message: err.message,
            objectType: 'KalturaAPIException',
            args: err.args,
          }),
        );
      } else {
        const args = Object.entries(err.args)
          .map(
            ([name, value]) =>
              `<item><objectType>KalturaApiExceptionArg</objectType><name>${escapeXml(name)}</name>` +
              `<value>${escapeXml(value)}</value></item>`,
          )
          .join('');
        res
          .writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
          .end(
            `<?xml version="1.0" encoding="utf-8"?><xml><result><error>` +
              `<objectType>KalturaAPIException</objectType><code>${escapeXml(err.code)}</code>` +
              `<message>${escapeXml(err.message)}</message><args>${args}</args></error></result>` +
              `<executionTime>0.001</executionTime></xml>`,
          );
      }
    }
  }

  /** The answer (an object for the API formats, a {@link FileAnswer} for `serve`), or throws an {@link ApiException}. */
  private dispatch(
    serviceName: string,
    actionName: string,
    params: Record<string, unknown>,
    call: FakeCall,
  ): unknown {
    const service = serviceName.toLowerCase();
    const action = actionName.toLowerCase();
    const key = `${service}.${action}`;
    const mandatory = MANDATORY[key];
    if (!Object.keys(MANDATORY).some((k) => k.startsWith(`${service}.`)))
      throw early(ApiException.of('SERVICE_DOES_NOT_EXISTS', serviceName));
    if (!mandatory) throw early(ApiException.of('ACTION_DOES_NOT_EXISTS', actionName, serviceName));
    const what = `${service}->${action}`;

    const injected = this.takeFailure(action, key, params, what);
    const ksString = typeof params.ks === 'string' ? params.ks : '';

    // Session (before the action: these come back as the usual exception, even from `serve`).
    if (ksString === '') throw early(injected ?? ApiException.of('MISSING_KS'));
    const ks = this.validateKs(ksString);
    call.ksPartnerId = ks.partnerId;
    if (injected) throw injected;
    if (ks.type !== 2) throw early(ApiException.of('SERVICE_FORBIDDEN', what));

    // Impersonation: only the media server partner (-5) may act as another partner.
    let partnerId = ks.partnerId;
    if (params.partnerId !== undefined && params.partnerId !== '') {
      const requested = Number(params.partnerId);
      if (requested !== ks.partnerId) {
        if (ks.partnerId !== -5 || !Number.isInteger(requested)) {
          throw early(ApiException.of('SERVICE_FORBIDDEN', what));
        }
        partnerId = requested;
      }
    }

    // The permission gate (kPermissionManager, before the action).
    const features = this.partner(ks.partnerId)?.features ?? [];
    if (HYBRID_ECDN_ACTIONS.has(key) && ks.partnerId !== -5 && !features.includes(FEATURE_HYBRID_ECDN))
      throw early(ApiException.of('SERVICE_FORBIDDEN', what));
    if (service === 'servernode' && !features.includes(FEATURE_SERVER_NODE))
      throw early(ApiException.of('SERVICE_FORBIDDEN', what));

    for (const name of mandatory) {
      const v = params[name];
      if (v === undefined || v === null || v === '')
        throw ApiException.of('MISSING_MANDATORY_PARAMETER', name);
    }

    const findEntry = (entryId: string): FakeEntry => {
      // Partner -5 (not impersonating) sees every partner's entries; anyone else only its own.
      const entry = this.opts.entries.find(
        (e) => e.id === entryId && (partnerId === -5 || e.partnerId === partnerId),
      );
      if (!entry) throw ApiException.of('ENTRY_ID_NOT_FOUND', entryId);
      return entry;
    };
    const index = (): string => {
      const v = String(params.mediaServerIndex);
      if (v !== '0' && v !== '1') {
        throw ApiException.of('INVALID_ENUM_VALUE', v, 'mediaServerIndex', 'KalturaEntryServerNodeType');
      }
      return v;
    };
    /** LiveEntry::setMediaServer: a media server node of that host name, any partner, not DISABLED. */
    const setMediaServer = (entry: FakeEntry, status: number): void => {
      const hostName = String(params.hostname);
      if (!this.node(hostName, 'wowza')) throw ApiException.of('MEDIA_SERVER_NOT_FOUND', hostName);
      this.entryServerNodes.set(`${entry.id}/${index()}`, { hostName, status });
    };

    switch (key) {
      case 'livestream.authenticate': {
        const entry = findEntry(String(params.entryId));
        // LiveStreamService::authenticateAction: the stream password, or the entry's encrypted SRT passphrase.
        const token = String(params.token);
        const srtOk = entry.srtPass !== undefined && timingSafeEqual(token, encryptedSrtPass(entry.srtPass));
        if (!timingSafeEqual(token, entry.token) && !srtOk) {
          throw ApiException.of('LIVE_STREAM_INVALID_TOKEN', entry.id);
        }
        const hostSent = params.hostname !== undefined && params.hostname !== '';
        if (hostSent && params.mediaServerIndex !== undefined) setMediaServer(entry, 3 /* AUTHENTICATED */);
        return this.entryJson(entry);
      }
      case 'livestream.get':
        return this.entryJson(findEntry(String(params.entryId)));
      case 'livestream.registermediaserver': {
        const entry = findEntry(String(params.entryId));
        index();
        const status = String(params.liveEntryStatus ?? '1');
        if (!ENTRY_SERVER_NODE_STATUSES.includes(status)) {
          throw ApiException.of(
            'INVALID_ENUM_VALUE',
            status,
            'liveEntryStatus',
            'KalturaEntryServerNodeStatus',
          );
        }
        setMediaServer(entry, Number(status));
        if (
          booleanParam(params.shouldCreateRecordedEntry, true) &&
          (entry.recordStatus ?? 0) !== 0 &&
          (status === '1' || status === '2') &&
          index() === '0' &&
          !this.recordedEntries.some((r) => r.rootEntryId === entry.id)
        ) {
          this.recordedEntries.push({
            id: `0_r${crypto.randomBytes(4).toString('hex').slice(0, 7)}`,
            rootEntryId: entry.id,
            partnerId: entry.partnerId,
          });
        }
        return this.entryJson(entry);
      }
      case 'livestream.unregistermediaserver': {
        const entry = findEntry(String(params.entryId));
        const hostName = String(params.hostname);
        if (!this.node(hostName, 'wowza')) throw ApiException.of('SERVER_NODE_NOT_FOUND', hostName);
        const k = `${entry.id}/${index()}`;
        if (!this.entryServerNodes.has(k))
          throw ApiException.of('ENTRY_SERVER_NODE_NOT_FOUND', entry.id, String(params.mediaServerIndex));
        this.entryServerNodes.delete(k);
        return this.entryJson(entry);
      }
      case 'partner.getinfo': {
        const partner = this.partner(partnerId);
        return dropNulls({
          objectType: 'KalturaPartner',
          id: partnerId,
          name: partner?.name ?? `Partner ${partnerId}`,
          status: 1,
          partnerPackage: 100,
        });
      }
      case 'servernode.reportstatus':
        return this.reportStatus(ks.partnerId, params);
      case 'beacon_beacon.add': {
        const b = params.beacon;
        if (typeof b !== 'object' || b === null || Array.isArray(b))
          throw ApiException.of('MISSING_MANDATORY_PARAMETER', 'beacon');
        const beacon = b as Record<string, unknown>;
        for (const prop of ['eventType', 'objectId', 'relatedObjectType']) {
          if (beacon[prop] === undefined || beacon[prop] === null || beacon[prop] === '')
            throw ApiException.of('PROPERTY_VALIDATION_CANNOT_BE_NULL', prop);
        }
        if (!['1', '2', '3', '4'].includes(String(beacon.relatedObjectType)))
          throw ApiException.of(
            'INVALID_ENUM_VALUE',
            String(beacon.relatedObjectType),
            'relatedObjectType',
            'KalturaBeaconObjectTypes',
          );
        this.beacons.push({
          partnerId,
          relatedObjectType: String(beacon.relatedObjectType),
          eventType: String(beacon.eventType),
          objectId: String(beacon.objectId),
          privateData: typeof beacon.privateData === 'string' ? beacon.privateData : '',
          at: this.now(),
        });
        return true;
      }
      default: {
        // wowza_liveConversionProfile.serve: a file action.
        const streamName = String(params.streamName);
        const m = /^([01]_[0-9a-zA-Z]{8})_(.+)$/.exec(streamName);
        if (!m) throw ApiException.of('INVALID_STREAM_NAME', streamName);
        const entry = findEntry(m[1] as string);
        let extra: Record<string, unknown> = {};
        if (typeof params.extraParams === 'string' && params.extraParams !== '') {
          try {
            const parsed: unknown = JSON.parse(params.extraParams);
            if (typeof parsed === 'object' && parsed !== null) extra = parsed as Record<string, unknown>;
          } catch {
            extra = {};
          }
        }
        return new FileAnswer((this.opts.profileXml ?? defaultProfileXml)(streamName, extra, entry));
      }
    }
  }

  /** serverNode.reportStatus(hostName, serverNode?, serverNodeStatus = ACTIVE) (ServerNodeService). */
  private reportStatus(partnerId: number, params: Record<string, unknown>): Record<string, unknown> {
    const hostName = String(params.hostName);
    const given = params.serverNode;
    let type: FakeNodeType | undefined;
    let object: Record<string, unknown> | undefined;
    if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
      object = given as Record<string, unknown>;
      type = NODE_OBJECT_TYPES[String(object.objectType)];
      if (!type)
        throw ApiException.of(
          'INVALID_ENUM_VALUE',
          String(object.objectType),
          'serverNode',
          'KalturaServerNode',
        );
    }
    const status = Number(params.serverNodeStatus ?? NODE_STATUS.ACTIVE);
    if (!Object.values(NODE_STATUS).includes(status))
      throw ApiException.of(
        'INVALID_ENUM_VALUE',
        String(status),
        'serverNodeStatus',
        'KalturaServerNodeStatus',
      );
    // retrieveActiveServerNode(hostName, partnerId, type): not DISABLED, this partner's.
    let node = this.serverNodes.find(
      (n) =>
        n.hostName === hostName &&
        n.partnerId === partnerId &&
        n.status !== NODE_STATUS.DISABLED &&
        (type === undefined || n.type === type),
    );
    if (!node) {
      if (!object || !type) throw ApiException.of('SERVER_NODE_NOT_FOUND', hostName);
      // validateForInsert: hostName and name at least 1 character, no other node of the type with that host.
      for (const prop of ['hostName', 'name']) {
        if (typeof object[prop] !== 'string' || (object[prop] as string).length < 1)
          throw ApiException.of('PROPERTY_VALIDATION_MIN_LENGTH', prop, '1');
      }
      if (this.serverNodes.some((n) => n.hostName === object.hostName && n.type === type))
        throw ApiException.of('HOST_NAME_ALREADY_EXISTS', String(object.hostName));
      const { objectType: _t, hostName: h, name, ...given } = object;
      const fields =
        type === 'edge'
          ? Object.fromEntries(Object.entries(given).filter(([k]) => EDGE_NODE_FIELDS.includes(k)))
          : given;
      // validateParentId: every id of a comma-separated parentId is a server node.
      if (fields.parentId !== undefined && String(fields.parentId) !== '') {
        const missing = String(fields.parentId)
          .split(',')
          .filter((id) => !this.serverNodes.some((n) => String(n.id) === id.trim()));
        if (missing.length > 0)
          throw ApiException.of('SERVER_NODE_PROVIDED_AS_PARENT_NOT_FOUND', missing.join(','));
      }
      node = this.addServerNode({
        partnerId,
        hostName: String(h),
        name: String(name),
        type,
        status: NODE_STATUS.ACTIVE,
        fields,
      });
    }
    node.heartbeatTime = this.now();
    node.status = status;
    return dropNulls({
      objectType: node.type === 'edge' ? 'KalturaEdgeServerNode' : 'KalturaWowzaMediaServerNode',
      id: node.id,
      partnerId: node.partnerId,
      hostName: node.hostName,
      name: node.name,
      status: node.status,
      heartbeatTime: Math.floor(node.heartbeatTime / 1000),
      ...node.fields,
    });
  }

  private takeFailure(
    action: string,
    key: string,
    params: Record<string, unknown>,
    what: string,
  ): ApiException | undefined {
    for (const k of [key, action]) {
      const f = this.failures.get(k);
      if (!f || f.left <= 0) continue;
      f.left--;
      if (f.left === 0) this.failures.delete(k);
      // Fill the code's arguments the way the real server would (a revoked KS is -6 LOGOUT).
      const known: Record<string, string> = {
        KSID: typeof params.ks === 'string' ? params.ks : '',
        ERR_CODE: '-6',
        ERR_DESC: 'LOGOUT',
        ENTRY_ID: String(params.entryId ?? params.streamName ?? ''),
        INGEST_NAME: String(params.streamName ?? ''),
        STREAM_NAME: String(params.streamName ?? ''),
        HOST_NAME: String(params.hostname ?? params.hostName ?? ''),
        SERVICE: what,
      };
      return ApiException.of(f.code, ...(TEMPLATES[f.code]?.args ?? []).map((a) => known[a] ?? ''));
    }
    return undefined;
  }

  /**
   * Decodes and verifies a v1 KS like kSessionBase::parseKsV1 + isValidBase; throws INVALID_KS. The signature is
   * compared exactly with the lower-case hex digest (an upper-case one is refused), and an expired KS is
   * INVALID_KS (-5, EXPIRED).
   */
  private validateKs(ks: string): KsInfo {
    const invalid = (code: number, desc: string): ApiException =>
      early(ApiException.of('INVALID_KS', ks, String(code), desc));
    const b64 = ks.replace(/-/g, '+').replace(/_/g, '/');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw invalid(-1, 'INVALID_STR');
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    const bar = decoded.indexOf('|');
    if (bar < 0) throw invalid(-1, 'INVALID_STR');
    const hash = decoded.slice(0, bar);
    const info = decoded.slice(bar + 1);
    const parts = info.split(';');
    if (parts.length < 3) throw invalid(-1, 'INVALID_STR');
    const partnerId = Number(parts[0]);
    const partner = this.opts.partners.find((p) => String(p.id) === parts[0]);
    if (!partner || !Number.isInteger(partnerId)) throw invalid(-2, 'INVALID_PARTNER');
    const expected = crypto
      .createHash('sha1')
      .update(partner.adminSecret + info, 'utf8')
      .digest('hex');
    if (!timingSafeEqual(hash, expected)) throw invalid(-1, 'INVALID_STR');
    const expiry = Number(parts[2]);
    if (!Number.isFinite(expiry) || expiry * 1000 <= this.now()) throw invalid(-5, 'EXPIRED');
    if (!this.seen.has(ks)) this.seen.set(ks, this.now());
    if (this.revoked.has(ks)) throw invalid(-6, 'LOGOUT');
    return { partnerId, type: Number(parts[3] ?? 0), expiry };
  }

  private entryJson(e: FakeEntry): Record<string, unknown> {
    const url = (i: 0 | 1): string =>
      `rtmp://ecdn.example/kLive/?p=${e.partnerId}&e=${e.id}&i=${i}&t=${e.token}`;
    const recorded = this.recordedEntries.find((r) => r.rootEntryId === e.id);
    return dropNulls({
      id: e.id,
      name: e.name,
      partnerId: e.partnerId,
      userId: 'admin',
      status: 2,
      type: 7,
      mediaType: 201,
      conversionProfileId: e.conversionProfileId,
      recordStatus: e.recordStatus ?? 0,
      recordedEntryId: recorded?.id,
      dvrStatus: e.dvrStatus ?? 0,
      dvrWindow: e.dvrWindow,
      segmentDuration: e.segmentDuration ?? 6000,
      streamName: `${e.id}_%i`,
      primaryBroadcastingUrl: url(0),
      secondaryBroadcastingUrl: url(1),
      // An admin session sees the SRT passphrase (KalturaLiveStreamEntry::doFromObject hides it from others).
      srtPass: e.srtPass,
      objectType: 'KalturaLiveStreamEntry',
    });
  }
}

/** The conversion profile service: the only one kaltura/server has. */
const PROFILE_SERVICE = 'wowza_liveconversionprofile';

/** An exception raised before the action runs (session, service, permission): the usual error form. */
class EarlyException extends ApiException {}

function early(e: ApiException): ApiException {
  return e instanceof EarlyException ? e : new EarlyException(e.code, e.message, e.args);
}

/** A KalturaNullableBoolean / bool parameter: JSON booleans, or 0/1/true/false strings. */
function booleanParam(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  return !(s === '0' || s === 'false');
}

function timingSafeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
