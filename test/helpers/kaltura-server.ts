/**
 * A Kaltura-compatible API server for the test suite (node:http on 127.0.0.1, random port). It checks what
 * the real service checks, independently of the appliance's own KS code, so a client cannot pass by
 * accident: the KS is decoded and its SHA-1 signature verified with the secret of the partner inside it,
 * expiry against a settable clock, ADMIN type, mandatory parameters, impersonation (only partner -5 may),
 * partner isolation of entries, and errors as HTTP 200 exception objects (JSON for format=1, else XML).
 *
 * Routes: `/api_v3/service/<service>/action/<action>` and `/api_v3/index.php/service/<s>/action/<a>/k/v/...`
 * (path-style params), `?service=&action=` query form; params from the path, the query string, and a JSON
 * or form-encoded body. Service and action names are case-insensitive (as on the real server).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
}

export interface FakeKalturaOptions {
  partners: Array<{ id: number; adminSecret: string; name?: string }>;
  entries: FakeEntry[];
  profileXml?: (streamName: string, extraParams: Record<string, unknown>, entry: FakeEntry) => string;
  /** Which conversion profile service exists; default the first. */
  conversionProfileServiceName?: 'wowza_liveConversionProfile' | 'wowza_liveStreamConversionProfile';
}

export interface FakeCall {
  service: string;
  action: string;
  params: Record<string, unknown>;
  ksPartnerId?: number;
  at: number;
  /** 'ok' or the exception code answered. */
  outcome: 'ok' | string;
}

/** Message templates of the real server (KalturaErrors / APIErrors), `@ARG@` substituted. */
const TEMPLATES: Record<string, { args: string[]; message: string }> = {
  MISSING_KS: { args: [], message: 'Missing KS, session not established' },
  INVALID_KS: {
    args: ['KSID', 'ERR_CODE', 'ERR_DESC'],
    message: 'Invalid KS "@KSID@", Error "@ERR_CODE@,@ERR_DESC@"',
  },
  EXPIRED_KS: { args: ['KSID'], message: 'KS "@KSID@" has expired' },
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
  ENTRY_ID_NOT_FOUND: { args: ['ENTRY_ID'], message: 'Entry id "@ENTRY_ID@" not found' },
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

/** Mandatory parameters per `service.action` (lower case). */
const MANDATORY: Record<string, string[]> = {
  'livestream.authenticate': ['entryId', 'token'],
  'livestream.get': ['entryId'],
  'livestream.registermediaserver': ['entryId', 'hostname', 'mediaServerIndex', 'liveEntryStatus'],
  'livestream.unregistermediaserver': ['entryId', 'hostname', 'mediaServerIndex'],
  'partner.getinfo': [],
  'wowza_liveconversionprofile.serve': ['streamName'],
  'wowza_livestreamconversionprofile.serve': ['streamName'],
};

const PROFILE_SERVICES = ['wowza_liveconversionprofile', 'wowza_livestreamconversionprofile'];

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

/** kaltura.md-style transcoder XML: passthrough `source`, 720p and 360p H.264, none taller than the ingest. */
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
      `</Video><Audio><Codec>AAC</Codec><Bitrate>${r.audio}</Bitrate></Audio></Encode>`,
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

export class FakeKaltura {
  readonly calls: FakeCall[] = [];
  /** Settable clock for KS expiry checks. */
  now: () => number = Date.now;

  private server: http.Server | undefined;
  private delayMs = 0;
  private readonly failures = new Map<string, { code: string; left: number }>();
  /** When each KS was first presented (ms, by `now`). */
  private readonly seen = new Map<string, number>();
  private readonly revoked = new Set<string>();
  private readonly profileService: string;

  constructor(private readonly opts: FakeKalturaOptions) {
    this.profileService = (opts.conversionProfileServiceName ?? 'wowza_liveConversionProfile').toLowerCase();
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (res.destroyed) return;

    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params: Record<string, unknown> = {};
    let service = '';
    let action = '';

    // Path: /api_v3[/index.php][/service/<s>/action/<a>][/k/v...]
    const segments = url.pathname.split('/').filter((s) => s !== '');
    if (segments[0] !== 'api_v3') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    let rest = segments.slice(1);
    if (rest[0] === 'index.php') rest = rest.slice(1);
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const k = decodeURIComponent(rest[i] ?? '');
      const v = decodeURIComponent(rest[i + 1] ?? '');
      if (k === 'service') service = v;
      else if (k === 'action') action = v;
      else params[k] = v;
    }
    for (const [k, v] of url.searchParams) {
      if (k === 'service') service = v;
      else if (k === 'action') action = v;
      else params[k] = v;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (body !== '') {
      if (type.includes('application/json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          Object.assign(params, parsed);
        }
      } else if (type.includes('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) params[k] = v;
      }
    }
    if (typeof params.service === 'string') service = params.service;
    if (typeof params.action === 'string') action = params.action;
    delete params.service;
    delete params.action;

    const format = String(params.format ?? '2') === '1' ? 'json' : 'xml';
    const call: FakeCall = { service, action, params, at: this.now(), outcome: 'ok' };
    this.calls.push(call);
    try {
      const result = this.dispatch(service, action, params, call);
      if (typeof result === 'string') {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(result);
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

  /** The answer (an object for the API formats, a string for raw XML), or throws an {@link ApiException}. */
  private dispatch(
    serviceName: string,
    actionName: string,
    params: Record<string, unknown>,
    call: FakeCall,
  ): unknown {
    const service = serviceName.toLowerCase();
    const action = actionName.toLowerCase();
    const known =
      service === 'livestream' ||
      service === 'partner' ||
      (PROFILE_SERVICES.includes(service) && service === this.profileService);
    if (!known) throw ApiException.of('SERVICE_DOES_NOT_EXISTS', service);
    const key = `${service}.${action}`;
    const mandatory = MANDATORY[key];
    if (!mandatory) throw ApiException.of('ACTION_DOES_NOT_EXISTS', action, service);

    const injected = this.takeFailure(action, key, params, `${serviceName}->${actionName}`);
    const ksString = typeof params.ks === 'string' ? params.ks : '';

    // Session.
    if (ksString === '') throw injected ?? ApiException.of('MISSING_KS');
    const ks = this.validateKs(ksString);
    call.ksPartnerId = ks.partnerId;
    if (injected) throw injected;
    if (ks.type !== 2) throw ApiException.of('SERVICE_FORBIDDEN', `${serviceName}->${actionName}`);

    // Impersonation: only the media server partner (-5) may act as another partner.
    let partnerId = ks.partnerId;
    if (params.partnerId !== undefined && params.partnerId !== '') {
      const requested = Number(params.partnerId);
      if (requested !== ks.partnerId) {
        if (ks.partnerId !== -5 || !Number.isInteger(requested)) {
          throw ApiException.of('SERVICE_FORBIDDEN', `${serviceName}->${actionName}`);
        }
        partnerId = requested;
      }
    }

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
    const index = (): number => {
      const v = String(params.mediaServerIndex);
      if (v !== '0' && v !== '1') {
        throw ApiException.of('INVALID_ENUM_VALUE', v, 'mediaServerIndex', 'KalturaEntryServerNodeType');
      }
      return Number(v);
    };

    switch (key) {
      case 'livestream.authenticate': {
        const entry = findEntry(String(params.entryId));
        if (params.mediaServerIndex !== undefined) index();
        if (!timingSafeEqual(String(params.token), entry.token)) {
          throw ApiException.of('LIVE_STREAM_INVALID_TOKEN', entry.id);
        }
        return this.entryJson(entry);
      }
      case 'livestream.get':
        return this.entryJson(findEntry(String(params.entryId)));
      case 'livestream.registermediaserver': {
        const entry = findEntry(String(params.entryId));
        index();
        const status = String(params.liveEntryStatus);
        if (!['0', '1', '2', '3', '4'].includes(status)) {
          throw ApiException.of(
            'INVALID_ENUM_VALUE',
            status,
            'liveEntryStatus',
            'KalturaEntryServerNodeStatus',
          );
        }
        return this.entryJson(entry);
      }
      case 'livestream.unregistermediaserver': {
        const entry = findEntry(String(params.entryId));
        index();
        return this.entryJson(entry);
      }
      case 'partner.getinfo': {
        const partner = this.opts.partners.find((p) => p.id === partnerId);
        return dropNulls({
          objectType: 'KalturaPartner',
          id: partnerId,
          name: partner?.name ?? `Partner ${partnerId}`,
          status: 1,
          partnerPackage: 100,
        });
      }
      default: {
        // <profile service>.serve
        const streamName = String(params.streamName);
        const m = /^([01]_[0-9a-zA-Z]{8})_(.+)$/.exec(streamName);
        const entry = findEntry(m?.[1] ?? streamName);
        let extra: Record<string, unknown> = {};
        if (typeof params.extraParams === 'string' && params.extraParams !== '') {
          try {
            const parsed: unknown = JSON.parse(params.extraParams);
            if (typeof parsed === 'object' && parsed !== null) extra = parsed as Record<string, unknown>;
          } catch {
            extra = {};
          }
        }
        return (this.opts.profileXml ?? defaultProfileXml)(streamName, extra, entry);
      }
    }
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
        SERVICE: what,
      };
      return ApiException.of(f.code, ...(TEMPLATES[f.code]?.args ?? []).map((a) => known[a] ?? ''));
    }
    return undefined;
  }

  /** Decodes and verifies a v1 KS like kSessionBase::parseKsV1 + isValidBase; throws INVALID_KS / EXPIRED_KS. */
  private validateKs(ks: string): KsInfo {
    const invalid = (code: number, desc: string): ApiException =>
      ApiException.of('INVALID_KS', ks, String(code), desc);
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
    if (!timingSafeEqual(hash.toLowerCase(), expected)) throw invalid(-1, 'INVALID_STR');
    const expiry = Number(parts[2]);
    if (!Number.isFinite(expiry) || expiry * 1000 <= this.now()) throw ApiException.of('EXPIRED_KS', ks);
    if (!this.seen.has(ks)) this.seen.set(ks, this.now());
    if (this.revoked.has(ks)) throw invalid(-6, 'LOGOUT');
    return { partnerId, type: Number(parts[3] ?? 0), expiry };
  }

  private entryJson(e: FakeEntry): Record<string, unknown> {
    const url = (i: 0 | 1): string =>
      `rtmp://ecdn.example/kLive/?p=${e.partnerId}&e=${e.id}&i=${i}&t=${e.token}`;
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
      dvrStatus: e.dvrStatus ?? 0,
      dvrWindow: e.dvrWindow,
      segmentDuration: e.segmentDuration ?? 6000,
      streamName: `${e.id}_%i`,
      primaryBroadcastingUrl: url(0),
      secondaryBroadcastingUrl: url(1),
      objectType: 'KalturaLiveStreamEntry',
    });
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
