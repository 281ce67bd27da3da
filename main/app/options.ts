/**
 * Every option of the appliance, defined once: flag, environment variable, default and doc line.
 * The README's option table is checked against this list by a test.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ControlFailure, SETTING_RULES } from '../contract/contract.js';
import { serviceUrlProblem } from '../partner/kaltura/client.js';
import type { OptionsSource } from '../settings/settings-service.js';
import { parseAllowList } from '../lib/ip-allow-list.js';
import { parseEdgeOrigins } from '../edge/edge-origins.js';
import { checkWebhookUrl } from '../alerts/webhooks.js';

export interface OptionSpec {
  /** Key in {@link ApplianceOptions}. */
  key: keyof ApplianceOptions;
  /** Empty for options that must not be given on the command line (secrets: visible in process lists). */
  flag: string;
  env: string;
  /** Default as the README shows it. */
  defaultText: string;
  doc: string;
  /** Whether the option is a secret (never logged). */
  secret?: boolean;
}

const port = z.coerce.number().pipe(SETTING_RULES.port);
const allowList = z.string().superRefine((v, ctx) => {
  try {
    parseAllowList(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const optionsSchema = z.object({
  dataDir: SETTING_RULES.dataDir,
  bind: z.string().min(1),
  publicHost: SETTING_RULES.publicHost.optional(),
  rtmpPort: port,
  srtPort: port,
  httpPort: port,
  adminPort: port,
  adminToken: SETTING_RULES.adminToken.optional(),
  adminAllow: allowList,
  statusAllow: allowList,
  partnerId: z.coerce.number().pipe(SETTING_RULES.partnerId),
  mode: SETTING_RULES.mode,
  serviceUrl: SETTING_RULES.serviceUrl.optional(),
  serviceTimeout: z.coerce.number().min(1).max(120),
  serverNodeName: SETTING_RULES.serverNodeName.optional(),
  serverNodeInterval: z.coerce.number().int().min(1).max(60),
  partnerSecret: SETTING_RULES.partnerSecret.optional(),
  partnerSecretFile: z.string().min(1).optional(),
  impersonation: z.enum(['on', 'off']),
  authGrace: z.coerce.number().int().min(0).max(86_400),
  authSkip: z.coerce.number().min(0).max(600),
  authBlock: z.coerce.number().min(0).max(3600),
  drainTime: z.coerce.number().min(0).max(30),
  slateDuration: z.coerce.number().min(0).max(86_400),
  fallbackProfile: z.string().min(1).optional(),
  trustedProxies: allowList,
  maxUpload: z.coerce.number().int().min(1).max(1_000_000),
  fragmentCache: z.coerce.number().int().min(0).max(65_536),
  signingOverlap: z.coerce
    .number()
    .min(0)
    .max(24 * 365),
  ffmpeg: z.string().min(1).optional(),
  conversionProfile: z.string().min(1).optional(),
  fragmentDuration: z.coerce.number().min(1).max(20),
  dvrWindow: z.coerce.number().int().min(4).max(86_400),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  edgeOrigins: z.string().superRefine((v, ctx) => {
    try {
      parseEdgeOrigins(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  edgeCacheSize: z.coerce.number().positive().max(1_000_000),
  edgeName: SETTING_RULES.serverNodeName.optional(),
  webhookUrl: z.string().superRefine((v, ctx) => {
    for (const u of webhookUrls(v)) {
      try {
        checkWebhookUrl(u);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }
  }),
  webhookSecret: z.string().min(16, 'the webhook secret needs at least 16 characters').optional(),
  edgeParentId: z
    .string()
    .regex(/^\d+(,\d+)*$/, "the parent's Kaltura server node id(s), comma-separated")
    .optional(),
});

/** Checks that need more than one option. */
function crossCheck(o: z.infer<typeof optionsSchema>, ctx: z.RefinementCtx): void {
  if (webhookUrls(o.webhookUrl).length > 0 && o.webhookSecret === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['webhookSecret'],
      message: 'webhooks are signed: give ECDN_WEBHOOK_SECRET (the receiver checks X-Ecdn-Signature with it)',
    });
  if (o.edgeName !== undefined && o.mode !== 'ecdn')
    ctx.addIssue({
      code: 'custom',
      path: ['edgeName'],
      message: "an edge server node is reported with the partner's service: it needs eCDN mode",
    });
  if (o.edgeName !== undefined && o.edgeOrigins.trim() === '')
    ctx.addIssue({
      code: 'custom',
      path: ['edgeName'],
      message: 'an edge server node needs the edge on: give --edge-origins',
    });
  if (o.mode !== 'ecdn') return;
  if (!o.serviceUrl)
    ctx.addIssue({
      code: 'custom',
      path: ['serviceUrl'],
      message: "eCDN mode needs the partner's service URL",
    });
  const urlProblem = o.serviceUrl ? serviceUrlProblem(o.serviceUrl) : undefined;
  if (urlProblem) ctx.addIssue({ code: 'custom', path: ['serviceUrl'], message: urlProblem });
  if (!o.partnerSecret && !o.partnerSecretFile) {
    ctx.addIssue({
      code: 'custom',
      path: ['partnerSecret'],
      message: "eCDN mode needs the partner's admin secret (ECDN_PARTNER_SECRET or --partner-secret-file)",
    });
  }
  if (o.partnerId === -5 && o.impersonation !== 'on') {
    ctx.addIssue({
      code: 'custom',
      path: ['impersonation'],
      message:
        'partner -5 (media server partner) needs --impersonation on; eCDN mode binds to one real partner',
    });
  }
}

export type ApplianceOptions = z.infer<typeof optionsSchema>;

export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'ECDN_DATA_DIR',
    defaultText: '~/.ecdn-appliance',
    doc: 'Directory for the database, fragments, settings and the generated admin token.',
  },
  {
    key: 'bind',
    flag: '--bind',
    env: 'ECDN_BIND',
    defaultText: '0.0.0.0',
    doc: 'Address the listeners (RTMP, SRT, origin, admin) bind to; one address is also where the appliance reaches its own ingest and origin.',
  },
  {
    key: 'publicHost',
    flag: '--public-host',
    env: 'ECDN_PUBLIC_HOST',
    defaultText: 'first LAN IPv4 address',
    doc: 'Host name or address written into broadcast and playback URLs.',
  },
  {
    key: 'rtmpPort',
    flag: '--rtmp-port',
    env: 'ECDN_RTMP_PORT',
    defaultText: '1935',
    doc: 'RTMP ingest listener (encoders).',
  },
  {
    key: 'srtPort',
    flag: '--srt-port',
    env: 'ECDN_SRT_PORT',
    defaultText: '9000',
    doc: 'SRT ingest listener (UDP; encoders call it, MPEG-TS with H.264/AAC); 0 turns SRT off.',
  },
  {
    key: 'httpPort',
    flag: '--http-port',
    env: 'ECDN_HTTP_PORT',
    defaultText: '8080',
    doc: 'Origin listener (viewers: HLS, DASH, state, statistics, archive).',
  },
  {
    key: 'adminPort',
    flag: '--admin-port',
    env: 'ECDN_ADMIN_PORT',
    defaultText: '8081',
    doc: 'Admin listener (control API, publishing point API, health).',
  },
  {
    key: 'adminToken',
    flag: '--admin-token',
    env: 'ECDN_ADMIN_TOKEN',
    defaultText: 'generated on first start',
    doc: 'Bearer token for the admin listener; when absent one is generated, stored in the data directory and printed once.',
    secret: true,
  },
  {
    key: 'adminAllow',
    flag: '--admin-allow',
    env: 'ECDN_ADMIN_ALLOW',
    defaultText: 'any address',
    doc: 'Addresses allowed on the admin listener, besides the token (comma-separated addresses, CIDRs, first-last ranges).',
  },
  {
    key: 'statusAllow',
    flag: '--status-allow',
    env: 'ECDN_STATUS_ALLOW',
    defaultText: '127.0.0.1, ::1',
    doc: 'Addresses that may read /state, /statistics and /archive on the origin without admin credentials.',
  },
  {
    key: 'trustedProxies',
    flag: '--trusted-proxies',
    env: 'ECDN_TRUSTED_PROXIES',
    defaultText: 'none',
    doc: 'Caches or proxies in front of the origin whose X-Forwarded-For is believed (for IP-bound signed URLs).',
  },
  {
    key: 'maxUpload',
    flag: '--max-upload',
    env: 'ECDN_MAX_UPLOAD',
    defaultText: '4096',
    doc: 'Largest file (MB) that can be uploaded into a space.',
  },
  {
    key: 'fragmentCache',
    flag: '--fragment-cache',
    env: 'ECDN_FRAGMENT_CACHE',
    defaultText: '64',
    doc: 'Memory (MB) for recently written and served fragments, shared by all viewers (0: read each from disk).',
  },
  {
    key: 'signingOverlap',
    flag: '--signing-overlap',
    env: 'ECDN_SIGNING_OVERLAP',
    defaultText: '24',
    doc: 'Hours a rotated URL-signing secret still verifies signed URLs made with it.',
  },
  {
    key: 'partnerId',
    flag: '--partner-id',
    env: 'ECDN_PARTNER_ID',
    defaultText: '1',
    doc: 'Partner id of the standalone partner (the `p` of broadcast URLs).',
  },
  {
    key: 'mode',
    flag: '--mode',
    env: 'ECDN_MODE',
    defaultText: 'standalone',
    doc: '`standalone` (local channels) or `ecdn` (bound to one Kaltura partner: every publish authenticated by its service).',
  },
  {
    key: 'serviceUrl',
    flag: '--service-url',
    env: 'ECDN_SERVICE_URL',
    defaultText: '—',
    doc: "eCDN mode: the partner's Kaltura service URL (SaaS or on-prem), e.g. https://www.kaltura.com; `https://` only (`http://` on loopback alone).",
  },
  {
    key: 'serverNodeName',
    flag: '--server-node-name',
    env: 'ECDN_SERVER_NODE_NAME',
    defaultText: "the machine's fully qualified name (`hostname -f`)",
    doc: "eCDN mode: this appliance's media server node at Kaltura, sent as `hostname` with every publish; created by serverNode.reportStatus when absent.",
  },
  {
    key: 'serverNodeInterval',
    flag: '--server-node-interval',
    env: 'ECDN_SERVER_NODE_INTERVAL',
    defaultText: '60',
    doc: 'eCDN mode: seconds between server node heartbeats (1 to 60: Kaltura stops routing to a node silent for 120 s).',
  },
  {
    key: 'serviceTimeout',
    flag: '--service-timeout',
    env: 'ECDN_SERVICE_TIMEOUT',
    defaultText: '10',
    doc: 'eCDN mode: seconds before a call to the service counts as failed.',
  },
  {
    key: 'partnerSecret',
    flag: '',
    env: 'ECDN_PARTNER_SECRET',
    defaultText: '—',
    doc: "eCDN mode: the partner's admin secret (environment only, never a flag; never logged).",
    secret: true,
  },
  {
    key: 'partnerSecretFile',
    flag: '--partner-secret-file',
    env: 'ECDN_PARTNER_SECRET_FILE',
    defaultText: '—',
    doc: "eCDN mode: a file holding the partner's admin secret (instead of ECDN_PARTNER_SECRET).",
  },
  {
    key: 'impersonation',
    flag: '--impersonation',
    env: 'ECDN_IMPERSONATION',
    defaultText: 'off',
    doc: "On-prem only: `on` with partner -5 looks up each entry's partner (liveStream.get) and impersonates it.",
  },
  {
    key: 'authGrace',
    flag: '--auth-grace',
    env: 'ECDN_AUTH_GRACE',
    defaultText: '0',
    doc: 'eCDN mode: seconds an entry and token that authenticated successfully stay accepted while the service is unreachable (0: refuse).',
  },
  {
    key: 'authSkip',
    flag: '--auth-skip',
    env: 'ECDN_AUTH_SKIP',
    defaultText: '10',
    doc: "Seconds a publish of an entry and token that just authenticated is accepted without asking again (Kaltura's media server: 10).",
  },
  {
    key: 'authBlock',
    flag: '--auth-block',
    env: 'ECDN_AUTH_BLOCK',
    defaultText: '30',
    doc: 'Seconds an entry is refused after a failed authentication ("Connection blocked due to previous error"; Kaltura\'s media server: 30).',
  },
  {
    key: 'drainTime',
    flag: '--drain-time',
    env: 'ECDN_DRAIN_TIME',
    defaultText: '3',
    doc: 'Seconds a transcoder may take to write its last fragments after its encoder left, before it is interrupted.',
  },
  {
    key: 'slateDuration',
    flag: '--slate-duration',
    env: 'ECDN_SLATE_DURATION',
    defaultText: '300',
    doc: 'Seconds the slate ("We\'ll be right back", or the image set in Settings) plays while a live channel\'s encoder is away, before the presentation ends; 0: no slate.',
  },
  {
    key: 'fallbackProfile',
    flag: '--fallback-profile',
    env: 'ECDN_FALLBACK_PROFILE',
    defaultText: 'passthrough only',
    doc: 'eCDN mode: transcoder XML used (with a warning on the channel) when the conversion profile cannot be fetched.',
  },
  {
    key: 'ffmpeg',
    flag: '--ffmpeg',
    env: 'ECDN_FFMPEG',
    defaultText: 'FFMPEG_PATH, ffmpeg-static, PATH',
    doc: 'Path of the ffmpeg binary; otherwise FFMPEG_PATH, the bundled ffmpeg-static binary, then ffmpeg on PATH.',
  },
  {
    key: 'conversionProfile',
    flag: '--conversion-profile',
    env: 'ECDN_CONVERSION_PROFILE',
    defaultText: 'resources/conversion-profiles/default.xml',
    doc: 'Transcoder XML (Wowza format) used for every stream in standalone mode.',
  },
  {
    key: 'fragmentDuration',
    flag: '--fragment-duration',
    env: 'ECDN_FRAGMENT_DURATION',
    defaultText: '2',
    doc: 'Target fragment duration in seconds for new publishing points.',
  },
  {
    key: 'dvrWindow',
    flag: '--dvr-window',
    env: 'ECDN_DVR_WINDOW',
    defaultText: '30',
    doc: 'Default dvr_window_length in seconds for new publishing points.',
  },
  {
    key: 'edgeOrigins',
    flag: '--edge-origins',
    env: 'ECDN_EDGE_ORIGINS',
    defaultText: 'none (edge off)',
    doc: 'Edge (Kaltura KES): origin hosts `/kCache/<host>/...` may fetch from, comma-separated; `host[:port]` over https, `http://host[:port]` over http (a parent on the LAN); empty: /kCache/ answers 404.',
  },
  {
    key: 'edgeCacheSize',
    flag: '--edge-cache-size',
    env: 'ECDN_EDGE_CACHE_SIZE',
    defaultText: '10',
    doc: 'Edge: disk (GB, 2^30 bytes; fractions allowed) for cached segments under `<data dir>/edge-cache/`, least recently used out first.',
  },
  {
    key: 'edgeName',
    flag: '--edge-name',
    env: 'ECDN_EDGE_NAME',
    defaultText: 'off',
    doc: "Edge, eCDN mode: host name of this appliance's edge server node at Kaltura, reported with serverNode.reportStatus (at most every 60 s) so access control can send viewers to it.",
  },
  {
    key: 'edgeParentId',
    flag: '--edge-parent-id',
    env: 'ECDN_EDGE_PARENT_ID',
    defaultText: 'none',
    doc: "Edge, eCDN mode: Kaltura id of the parent edge server node this edge pulls from (tiers), sent as the node's parentId.",
  },
  {
    key: 'webhookUrl',
    flag: '--webhook-url',
    env: 'ECDN_WEBHOOK_URL',
    defaultText: 'none',
    doc: 'Alerts (black, frozen, silence, ingest lost, backup took over, transcoder failed) POSTed as signed JSON to these http(s) URLs, comma-separated.',
  },
  {
    key: 'webhookSecret',
    flag: '',
    env: 'ECDN_WEBHOOK_SECRET',
    defaultText: 'none',
    doc: 'The shared secret webhooks are signed with (HMAC-SHA256 of the body in `X-Ecdn-Signature: sha256=<hex>`); needed with `--webhook-url`.',
    secret: true,
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'ECDN_LOG_LEVEL',
    defaultText: 'info',
    doc: 'Log level: trace, debug, info, warn, error, fatal or silent.',
  },
];

const DEFAULTS: Record<string, string | undefined> = {
  dataDir: path.join(os.homedir(), '.ecdn-appliance'),
  bind: '0.0.0.0',
  rtmpPort: '1935',
  srtPort: '9000',
  httpPort: '8080',
  adminPort: '8081',
  partnerId: '1',
  adminAllow: '',
  statusAllow: '127.0.0.1, ::1',
  mode: 'standalone',
  serviceTimeout: '10',
  impersonation: 'off',
  authGrace: '0',
  authSkip: '10',
  authBlock: '30',
  drainTime: '3',
  slateDuration: '300',
  serverNodeInterval: '60',
  trustedProxies: '',
  signingOverlap: '24',
  maxUpload: '4096',
  fragmentCache: '64',
  fragmentDuration: '2',
  dvrWindow: '30',
  logLevel: 'info',
  edgeOrigins: '',
  edgeCacheSize: '10',
  webhookUrl: '',
};

/** The webhook URLs of `--webhook-url` (comma-separated). */
export function webhookUrls(text: string): string[] {
  return text
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

export class OptionsError extends Error {
  readonly code = 'INVALID_OPTIONS';
}

/**
 * Layers below flags and environment variables: stored settings (the first-run wizard's, the settings page's),
 * then defaults the shell supplies (the desktop app's data directory and bundled ffmpeg).
 */
export interface OptionLayers {
  stored?: Partial<Record<string, string>>;
  shellDefaults?: Partial<Record<string, string>>;
}

/** Which options a flag or an environment variable fixes, with where (e.g. `--http-port flag`). */
export function fixedOptions(argv: string[], env: NodeJS.ProcessEnv): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  for (const spec of OPTION_SPECS) {
    const flagGiven = spec.flag !== '' && argv.some((a) => a === spec.flag || a.startsWith(`${spec.flag}=`));
    if (flagGiven) out[spec.key] = `${spec.flag} flag`;
    else if (nonEmpty(env[spec.env]) !== undefined) out[spec.key] = `${spec.env} environment variable`;
  }
  return out;
}

/** Reads options from command-line flags, then environment variables, then the layers, then defaults. */
export function loadOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  layers: OptionLayers = {},
): ApplianceOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        OPTION_SPECS.filter((s) => s.flag).map((s) => [s.flag.slice(2), { type: 'string' as const }]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  const raw: Record<string, string | undefined> = {};
  for (const spec of OPTION_SPECS) {
    const fromFlag = spec.flag ? values[spec.flag.slice(2)] : undefined;
    raw[spec.key] =
      (typeof fromFlag === 'string' ? fromFlag : undefined) ??
      nonEmpty(env[spec.env]) ??
      nonEmpty(layers.stored?.[spec.key]) ??
      nonEmpty(layers.shellDefaults?.[spec.key]) ??
      DEFAULTS[spec.key];
  }
  const parsed = optionsSchema.superRefine(crossCheck).safeParse(raw);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => {
      const spec = OPTION_SPECS.find((s) => s.key === i.path[0]);
      return `${spec ? [spec.flag, spec.env].filter(Boolean).join(' / ') : String(i.path[0])}: ${i.message}`;
    });
    throw new OptionsError(`invalid options: ${reasons.join('; ')}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The server node name when none is configured: the machine's fully qualified name, as Wowza's Kaltura module
 * uses (`hostname -f`), never the short host name a real node is not registered under.
 */
export function defaultServerNodeName(): string {
  fqdn ??= lookUpServerNodeName();
  return fqdn;
}
let fqdn: string | undefined;

function lookUpServerNodeName(): string {
  try {
    const fqdn = execFileSync('hostname', ['-f'], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(fqdn)) return fqdn;
  } catch {
    // no hostname(1): the OS's name below
  }
  return os.hostname();
}

/** Where the settings service gets options from: these flags, this environment and the shell's defaults. */
export function optionsSource(
  argv: string[],
  env: NodeJS.ProcessEnv,
  shellDefaults?: Partial<Record<string, string>>,
): OptionsSource<ApplianceOptions> {
  return {
    load: (stored) => {
      try {
        return loadOptions(argv, env, { stored, ...(shellDefaults ? { shellDefaults } : {}) });
      } catch (err) {
        if (err instanceof OptionsError) throw new ControlFailure(400, 'BAD_REQUEST', err.message);
        throw err;
      }
    },
    fixed: () => fixedOptions(argv, env),
    defaultServerNodeName,
    defaultPublicHost,
  };
}

/** The LAN address written into URLs when no public host is configured. */
export function defaultPublicHost(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
