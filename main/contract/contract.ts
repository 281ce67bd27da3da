/**
 * The control API contract: operations (request and response types, and where each lives over HTTP), the
 * events pushed to dashboards, and the error codes. Shared by the core (main), the preload and the renderer:
 * this file imports nothing at run time but zod, so the renderer bundles it as is.
 *
 * Two transports speak it: IPC through the preload (`ecdn:control`, results wrapped as `ControlResult`) and
 * HTTP + WebSocket on the admin listener (`CONTROL_ROUTES`; errors as `ApiError` bodies, events on
 * `/api/v1/events`). A dashboard only ever sees `ControlResult`s and `ControlEvent`s.
 */
import { z } from 'zod';

/**
 * "Record this event": the DVR window players can seek in (minutes) and how long recordings are kept (days; 0:
 * all). Sets the publishing point's `dvr_window_length`, `archiving` and `archive_length`.
 */
export const recordingSettings = z
  .object({
    dvrWindowMinutes: z
      .number()
      .min(0.1, 'the DVR window is at least 0.1 minutes')
      .max(1440, 'the DVR window is at most 1440 minutes (a day)')
      .optional(),
    keepDays: z
      .number()
      .min(0, 'days to keep: 0 (keep everything) or more')
      .max(3650, 'days to keep: at most 3650')
      .optional(),
  })
  .strict();
export type RecordingSettings = z.infer<typeof recordingSettings>;

/** Recording switched on or off, with its settings (`PUT /api/v1/channels/:entryId/recording`). */
export const recordingBody = recordingSettings.extend({ record: z.boolean() }).strict();
export type RecordingBody = z.infer<typeof recordingBody>;

export const createChannelBody = z
  .object({
    name: z.string().trim().min(1, 'name must not be empty').max(200, 'name is longer than 200 characters'),
    /** Record this event: the channel's publishing point is made now, with recording on. */
    recording: recordingSettings.optional(),
  })
  .strict();
export type CreateChannelBody = z.infer<typeof createChannelBody>;

export const patchChannelBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'name must not be empty')
      .max(200, 'name is longer than 200 characters')
      .optional(),
    access: z.enum(['open', 'secure']).optional(),
    /** SRT receiver latency (ms): more absorbs a lossier, longer link; applies to the next SRT connection. */
    srtLatencyMs: z
      .number()
      .int()
      .min(20, 'srtLatencyMs: at least 20 ms')
      .max(8000, 'srtLatencyMs: at most 8000 ms')
      .optional(),
  })
  .strict()
  .refine(
    (b) => b.name !== undefined || b.access !== undefined || b.srtLatencyMs !== undefined,
    'nothing to change: give name, access and/or srtLatencyMs',
  );

/** get-signed-url, as DuraCloud's: expiry (default 8 hours), an IP address or range, a resource prefix. */
export const signedUrlBody = z
  .object({
    expiresIn: z
      .number()
      .int()
      .min(1)
      .max(366 * 24 * 3600)
      .default(8 * 3600),
    ipRange: z.string().min(1).max(100).optional(),
    resourcePrefix: z
      .string()
      .regex(/^[A-Za-z0-9]{1,8}:$/, 'resourcePrefix looks like "mp4:"')
      .optional(),
  })
  .strict();
export type SignedUrlBody = z.infer<typeof signedUrlBody>;

export interface IngestView {
  sessionId: string;
  role: 'primary' | 'backup';
  streamName: string;
  remote: string;
  startedAt: string;
  feeding: boolean;
  metadata: Record<string, string | number>;
  /** Measured from the encoder's packets (every 2 s); absent until the first measurement. */
  health?: IngestHealthView;
  /** What is wrong with this ingest, in plain words with the fix (also on the channel's events, once each). */
  warnings: Array<{ code: string; message: string }>;
  /** How the encoder reaches the appliance (absent: RTMP). */
  transport?: 'rtmp' | 'srt';
  /** SRT's own statistics of an SRT ingest (every 2 s). */
  srt?: SrtStatsView;
}

/** A channel's last publish attempt (RTMP or SRT): accepted, or refused with the code and the fix. */
export interface PublishAttemptView {
  at: string;
  remote: string;
  transport: 'rtmp' | 'srt';
  accepted: boolean;
  /** The refusal's code (absent when accepted). */
  code?: string;
  message: string;
  /** What to do about a refusal, in plain words. */
  fix?: string;
}

/** SRT's statistics of one caller: round trip, rates, and what the link lost and SRT recovered. */
export interface SrtStatsView {
  rttMs: number;
  recvRateMbps: number;
  bandwidthMbps: number;
  packetsReceived: number;
  /** Lost on the way (SRT asked for them again), retransmitted packets received, dropped as too late. */
  packetsLost: number;
  packetsRetransmitted: number;
  packetsDropped: number;
  /** The latency both ends agreed (ms). */
  latencyMs: number;
}

/** How an encoder publishes a channel over SRT (absent when the appliance's SRT ingest is off). */
export interface SrtIngestView {
  /** `srt://host:port` (caller mode). */
  url: string;
  /** Kaltura's stream id (`#:::e=<entry>,st=0,p=<token>`), and the backup's (`st=1`). */
  streamId: string;
  backupStreamId: string;
  /** The short stream id (`<entry>_1`), authenticated by the passphrase alone. */
  plainStreamId: string;
  /** The channel's SRT passphrase (absent: the channel takes unencrypted SRT with the Kaltura stream id). */
  passphrase?: string;
  /** SRT receiver latency (ms). */
  latencyMs: number;
}

export interface IngestHealthView {
  fps: number | null;
  /** bit/s over the last 10 s, and the highest one-second rate in them. */
  bitrate: number;
  peakBitrate: number;
  /** As measured between key frames, not as announced. */
  keyFrameIntervalMs: number | null;
  bFrames: boolean;
  audio: boolean;
  video: boolean;
  timestampJumps: number;
  /** How far the encoder's timestamps fall behind the wall clock since it started. */
  driftMs: number;
  /** Since the last packet arrived. */
  lastPacketAgeMs: number;
}

export interface RenditionStats {
  streamName: string;
  fps: number;
  speed: number | null;
  bitrate: number | null;
  dropFrames: number;
  restarts: number;
}

export interface ChannelEventView {
  id: number;
  /** When it (last) happened. */
  at: string;
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
  /** Repeats: how many times in a row, and when the first was (absent for a single event). */
  count?: number;
  firstAt?: string;
}

export interface ChannelView {
  entryId: string;
  partnerId: number;
  name: string;
  token: string;
  createdAt: string;
  access: 'open' | 'secure';
  /** Moves on each time the channel's signed URLs are revoked (a link made before no longer opens it). */
  signedGeneration: number;
  /** Addresses refused without asking after a failed publish, until when, and why ("Allow now" clears them). */
  blocks: Array<{ address: string; until: string; reason: string }>;
  /** False after `stop`: publishes are refused until `start`. */
  accepting: boolean;
  /** OBS "server" and the full URL for ffmpeg-style encoders. */
  broadcastUrl: string;
  backupBroadcastUrl: string;
  streamName: string;
  rtmp: { server: string; backupServer: string; streamKey: string };
  /** SRT: the URL, stream ids and passphrase an encoder needs (absent when SRT is off). */
  srt?: SrtIngestView;
  /**
   * eCDN: the Kaltura entry's primary broadcast URL, offered as a push target (the cloud copy of the event); absent
   * when the service sends the entry's encoders to this appliance itself (a push there would loop).
   */
  kalturaBroadcastUrl?: string;
  /** The last publish attempt since the appliance started: accepted, or refused with the fix in plain words. */
  lastPublish?: PublishAttemptView;
  publishingPoint: { name: string; path: string; state: PublishingPointState };
  state: PublishingPointState;
  playback: { hls: string; dash: string };
  ingests: IngestView[];
  statistics: RenditionStats[];
  /** On-air confidence: the content conditions raised now (none when all is well or the channel is not live). */
  alerts: ChannelAlertView[];
  /** The content monitor, while the channel is live. */
  monitor?: ContentMonitorView;
}

// ---------------------------------------------------------------------------------------------------------
// On-air confidence: what the content monitor sees in a live channel (main/monitor/). Each condition raised
// and cleared is also a channel event (`BLACK_STARTED` / `BLACK_ENDED`, `FROZEN_…`, `SILENCE_…`).

/** A black picture, a frozen picture, silence. */
export type ContentCondition = 'BLACK' | 'FROZEN' | 'SILENCE';

export interface ChannelAlertView {
  condition: ContentCondition;
  level: 'warn' | 'error';
  /** When it began (the detector's time, before the minimum duration that raised it). */
  since: string;
  /** What staff read, e.g. "black picture". */
  message: string;
}

export interface ContentMonitorView {
  /** Whether its ffmpeg runs now (it restarts with backoff). */
  running: boolean;
  /** Seconds between key frames, as measured in the decoded stream (not as announced); null until known. */
  keyFrameInterval: number | null;
  /** When the thumbnail (`<publishing point>/thumbnail.jpg` on the origin) was last written; null when none. */
  thumbnailAt: string | null;
}

export interface ApiError {
  error: { code: string; message: string };
}

/** Every error code the control API returns, with its HTTP status. */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CHANNEL_NOT_FOUND: 404,
  PUBLISHING_POINT_NOT_FOUND: 404,
  /** Nothing in the archive in the range asked for (download, save to library). */
  ARCHIVE_RANGE_EMPTY: 404,
  SPACE_NOT_FOUND: 404,
  /** The library (spaces) is not available in this core. */
  LIBRARY_UNAVAILABLE: 409,
  MODE_ECDN: 409,
  CONFLICT: 409,
  PUBLISHING_POINT_BUSY: 409,
  SETTING_FIXED: 409,
  SETTINGS_READ_ONLY: 409,
  /** Saving needs the core restarted and channels are live: ask staff (`apply: "now"` or `"later"`). */
  CHANNELS_LIVE: 409,
  SECRET_STORAGE_UNAVAILABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CONNECTION_FAILED: 502,
  EXPORT_FAILED: 500,
  INTERNAL: 500,
  /** Client side only: the transport failed (network down, appliance restarting). */
  UNREACHABLE: 0,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error as it crosses either transport. `status` is the HTTP status (0 when the transport failed). */
export interface ControlErrorValue {
  code: ErrorCode | (string & {});
  message: string;
  status: number;
}

/** What an IPC call resolves with (IPC cannot carry typed errors, so they are values). */
export type ControlResult<T> = { ok: true; value: T } | { ok: false; error: ControlErrorValue };

// ---------------------------------------------------------------------------------------------------------
// Views the dashboard reads.

export interface ApplianceStatus {
  version: string;
  mode: 'standalone' | 'ecdn';
  partnerId: number;
  /** No settings were ever saved: the dashboard offers the first-run wizard. */
  firstRun: boolean;
  urls: { rtmp: string; origin: string; admin: string };
  dataDir: string;
  startedAt: string;
  ready: boolean;
  pid: number;
  uptimeSeconds: number;
  ingest: { pid: number | null; listening: boolean; restarts: number };
  /** The SRT ingest (absent when it is off): whether it listens, where, and why not. */
  srt?: { pid: number | null; listening: boolean; port: number; restarts: number; error?: string };
  ffmpeg: string;
  /** The data directory's file system (checked every 30 s): nearly full below 5% or 2 GiB free. */
  disk?: { freeBytes: number; totalBytes: number; nearlyFull: boolean };
  /** eCDN mode: the service, and whether the partner binding works right now. */
  serviceUrl?: string;
  binding?: {
    state: string;
    /** A failure's code (the README's eCDN troubleshooting table). */
    code?: string;
    message?: string;
    /** What to do about a failure. */
    fix?: string;
    checkedAt?: string;
    /** This appliance's media server node at Kaltura, kept alive by serverNode.reportStatus. */
    serverNode?: ServerNodeStatusView;
  };
}

/** A server node of this appliance at Kaltura, as the status shows it. */
export interface ServerNodeStatusView {
  /** Its host name at Kaltura (`--server-node-name`). */
  name: string;
  role: 'media' | 'edge';
  /** `active` (heartbeats accepted), `unmanaged` (the partner lacks FEATURE_SERVER_NODE), `failed`, `reporting`, `stopped`. */
  state: 'reporting' | 'active' | 'unmanaged' | 'failed' | 'stopped';
  id?: number;
  code?: string;
  message?: string;
  /** What to do about a failure (how to create the node by hand, when the partner lacks server nodes). */
  fix?: string;
  lastReportAt?: string;
}

export interface TrackRangeView {
  start: string;
  end: string;
  /** Who fed the range: an ingest, or the slate (played while the encoder was away; not the event's media). */
  ingest: 'primary' | 'backup' | 'slate';
}

export interface ArchiveView {
  publishingPoint: string;
  state: PublishingPointState;
  /** The DVR window: what players can seek in, now. */
  dvrWindow: { seconds: number; start: string | null; end: string | null };
  archiving: boolean;
  tracks: Array<{ trackName: string; kind: string; bitrate: number | null; ranges: TrackRangeView[] }>;
  /** Server time of this view (to place "now" on the timeline). */
  now: string;
}

export interface PublishingPointView {
  name: string;
  state: PublishingPointState;
  options: Record<string, string>;
  /** Options can be changed only while the publishing point is not active and completely purged. */
  editable: boolean;
  /** Why not, when not editable. */
  reason?: string;
  /** The options it acts on, resolved with their defaults. */
  resolved: { dvrWindow: number; archiving: boolean; archiveLength: number; fragmentDuration: number };
  /** Recording as the friendly form shows it (from `archiving`, `dvr_window_length`, `archive_length`). */
  recording?: RecordingView;
}

/** A channel's recording: on or off, its DVR window and how long recordings are kept. */
export interface RecordingView {
  record: boolean;
  dvrWindowMinutes: number;
  /** 0: kept until purged. */
  keepDays: number;
  /** Recording can be switched on (or kept longer) now: the channel is idle (no purge needed for that). */
  canStart: boolean;
  /** Recording can be switched off or shortened now: idle and the archive purged. */
  canStop: boolean;
  /** Why a change cannot be made now, when it cannot. */
  reason?: string;
}

/** An archive range saved into a space of the library. */
export interface SavedRangeView {
  spaceId: string;
  spaceName: string;
  name: string;
  kind: 'video' | 'audio';
  size: number;
  duration: number | null;
  hls: string;
  progressive: string;
}

/** A space of the library (stored media), as the "Save to library" picker lists it. */
export interface LibrarySpaceView {
  id: string;
  name: string;
  items: number;
}

/** An archive range: ISO times. */
export const archiveRangeBody = z
  .object({
    from: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'from: an ISO time'),
    to: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'to: an ISO time'),
  })
  .strict()
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), 'from must be before to');

/** "Save to library": the range, the item's name, and the space (default: one named "Recordings", made if needed). */
export const saveRangeBody = z
  .object({
    from: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'from: an ISO time'),
    to: z.string().refine((v) => Number.isFinite(Date.parse(v)), 'to: an ISO time'),
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/,
        'name: letters, digits, . _ - (not starting with a dot), at most 128',
      ),
    spaceId: z.string().min(1).max(100).optional(),
  })
  .strict()
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), 'from must be before to');
export type SaveRangeBody = z.infer<typeof saveRangeBody>;

export interface StatisticsSample {
  at: string;
  entryId: string;
  viewers: number;
  /** Bytes served to viewers since the appliance started. */
  bytesServed: number;
  renditions: Array<{
    streamName: string;
    fps: number;
    speed: number | null;
    /** Output bits per second, as ffmpeg reports it. */
    bitrate: number | null;
    dropFrames: number;
    /** Bytes of media written so far by this rendition's current run. */
    bytes: number;
  }>;
  // Viewer statistics (main/origin/viewer-stats.ts); the dashboard's preview and admin requests are not viewers.
  /** The most concurrent viewers since `viewersSince`, and when that was. */
  peakViewers?: number;
  peakAt?: string | null;
  /** Distinct viewers (an address and a player) since `viewersSince`, the first viewer of the event. */
  uniqueViewers?: number;
  viewersSince?: string | null;
  /** Caches or proxies seen in front of the origin in the last 30 s: the viewers they serve are not all counted. */
  edges?: string[];
  /** What the encoder sends now (the ingest feeding the origin); null when none. */
  input?: StatisticsInput | null;
  /** One row per output rendition (track), with the bitrate measured over its last fragments. */
  outputs?: StatisticsOutput[];
}

export interface StatisticsInput {
  role: 'primary' | 'backup';
  width: number | null;
  height: number | null;
  /** Frames per second as measured from the packets (else as the encoder's metadata says). */
  fps: number | null;
  /** bits per second over the last 10 s, as measured. */
  bitrate: number | null;
  /** When this publish began (uptime = now − startedAt). */
  startedAt: string;
}

export interface StatisticsOutput {
  /** The track's name on the origin, e.g. `video_720`, `audio_source`. */
  trackName: string;
  kind: 'video' | 'audio';
  /** The conversion profile's encode it comes from (`source`, `720`, `360`). */
  rendition: string;
  width: number | null;
  height: number | null;
  /** bits per second over its last fragments (about 10 s), as written; null before two fragments. */
  bitrate: number | null;
  /** What the conversion profile or the source declares, bits per second. */
  declaredBitrate: number | null;
}

/**
 * The query parameter the dashboard's preview adds to every request it makes to the origin: the preview is not
 * a viewer (main/origin/viewer-stats.ts).
 */
export const PREVIEW_QUERY = 'ecdn_preview';

export interface RefusedPublishView {
  remote: string;
  code: string;
  message: string;
  hint: string;
  streamName: string;
  entryId?: string;
  count: number;
  firstAt: string;
  lastAt: string;
}

export interface SignedUrlView {
  url: string;
  dash: string;
  expiresAt: string;
  ipRange?: string;
  keyId: string;
}

// ---------------------------------------------------------------------------------------------------------
// Push targets: where a channel's stream also goes (copied, no re-encode).

export const createPushTargetBody = z
  .object({
    url: z.string().min(1, 'url is required').max(2048, 'url is longer than 2048 characters'),
    name: z.string().trim().min(1, 'name must not be empty').max(200).optional(),
    rendition: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,40}$/,
        'rendition: "source", or the name of a rendition of the conversion profile such as "720"',
      )
      .optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type CreatePushTargetBody = z.infer<typeof createPushTargetBody>;

export const updatePushTargetBody = z
  .object({
    name: z.string().trim().min(1, 'name must not be empty').max(200).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine(
    (b) => b.name !== undefined || b.enabled !== undefined,
    'nothing to change: give name and/or enabled',
  );

export type PushTargetState = 'idle' | 'connecting' | 'live' | 'retrying' | 'disabled';

export interface PushTargetView {
  id: string;
  entryId: string;
  name: string;
  /** The URL with its stream key masked (the full URL never leaves the core). */
  url: string;
  protocol: 'rtmp' | 'rtmps' | 'srt';
  /** `source` (the encoder's stream, copied) or a transcoded rendition's name (its tracks, copied). */
  rendition: string;
  enabled: boolean;
  /** idle: the channel is not live; connecting, live, retrying (see lastError, retryAt); disabled. */
  state: PushTargetState;
  lastError?: string;
  /** Bytes sent since this push (re)connected. */
  bytesSent: number;
  liveSince?: string;
  retryAt?: string;
  /** Failed attempts in a row. */
  failures: number;
}

/** Settings as the dashboard shows them. Secrets never leave the core: only whether one is set. */
export interface SettingsView {
  mode: 'standalone' | 'ecdn';
  serviceUrl: string;
  partnerId: number;
  hasPartnerSecret: boolean;
  /** eCDN mode: this appliance's media server node at Kaltura (the configured name, or the default in effect). */
  serverNodeName: string;
  rtmpPort: number;
  httpPort: number;
  adminPort: number;
  dataDir: string;
  /** Settings fixed by a command-line flag or an environment variable (shown, not editable), with where. */
  fixed: Partial<Record<SettingKey, string>>;
  /** Where settings are kept ("electron-store (OS keychain for the secret)", or a file path). */
  storage: string;
  /** The host name or address written into broadcast and playback URLs (`--public-host`), and the detected one. */
  publicHost: string;
  detectedPublicHost: string;
  /** Alert webhook URLs, comma-separated (`--webhook-url`); the signing secret is environment only. */
  webhookUrl: string;
  hasWebhookSecret: boolean;
  /** Where the admin token comes from: a flag or environment variable, the settings, or generated (and where kept). */
  adminTokenSource: string;
}
/** Every setting the wizard and the settings page can save (the names of the options they set). */
export const SETTING_KEYS = [
  'mode',
  'serviceUrl',
  'partnerId',
  'partnerSecret',
  'serverNodeName',
  'rtmpPort',
  'httpPort',
  'adminPort',
  'dataDir',
  'adminToken',
  'publicHost',
  'webhookUrl',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Settings applied to the running core as they are saved; every other change restarts the core. */
export const LIVE_SETTING_KEYS: readonly SettingKey[] = ['adminToken', 'webhookUrl'];

/**
 * When a change needs the core restarted: `ifIdle` (the default) refuses with `CHANNELS_LIVE` while a channel is
 * live, `now` restarts anyway (live channels are cut, their events say why), `later` saves and applies at the
 * next restart.
 */
export const settingsApply = z.enum(['ifIdle', 'now', 'later']);
export type SettingsApply = z.infer<typeof settingsApply>;

/**
 * What each setting may be, defined once: the settings API (typed JSON from the wizard and the settings page) and
 * the appliance's options (strings from flags, the environment and the settings file, coerced first) both
 * validate with these rules.
 */
export const SETTING_RULES = {
  mode: z.enum(['standalone', 'ecdn']),
  serviceUrl: z.url({
    protocol: /^https?$/,
    message: 'the service URL must be an http(s) URL such as https://www.kaltura.com',
  }),
  partnerId: z.number().int().min(-5),
  partnerSecret: z.string().min(1).max(200),
  serverNodeName: z
    .string()
    .max(255)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      'the server node name must be a host name (letters, digits, dots, dashes)',
    ),
  /** 0: any free port (tests). */
  port: z.number().int().min(0).max(65535),
  dataDir: z.string().min(1).max(1000),
  adminToken: z.string().min(16, 'the admin token needs at least 16 characters').max(200),
  publicHost: z
    .string()
    .max(255)
    .regex(
      /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9:][A-Za-z0-9.:-]*)$/,
      'the public host is a host name or an address (letters, digits, dots, dashes), without a scheme or port',
    ),
  /** Comma-separated http(s) URLs; empty: no webhooks. */
  webhookUrl: z.string().max(4000),
} as const;

const trimmed = <T extends z.ZodType<string, string>>(rule: T) => z.string().trim().pipe(rule);

export const settingsInput = z
  .object({
    mode: SETTING_RULES.mode.optional(),
    serviceUrl: trimmed(SETTING_RULES.serviceUrl).optional(),
    partnerId: SETTING_RULES.partnerId.optional(),
    /** Write-only. */
    partnerSecret: SETTING_RULES.partnerSecret.optional(),
    serverNodeName: trimmed(SETTING_RULES.serverNodeName).optional(),
    rtmpPort: SETTING_RULES.port.optional(),
    httpPort: SETTING_RULES.port.optional(),
    adminPort: SETTING_RULES.port.optional(),
    dataDir: trimmed(SETTING_RULES.dataDir).optional(),
    /** A new admin token (password) for the admin listener; write-only. */
    adminToken: SETTING_RULES.adminToken.optional(),
    /** Empty: the detected address again. */
    publicHost: trimmed(z.union([z.literal(''), SETTING_RULES.publicHost])).optional(),
    webhookUrl: z.string().trim().pipe(SETTING_RULES.webhookUrl).optional(),
  })
  .strict();
export type SettingsInput = z.infer<typeof settingsInput>;

export const testConnectionBody = z
  .object({
    serviceUrl: trimmed(SETTING_RULES.serviceUrl),
    partnerId: SETTING_RULES.partnerId,
    /** Omitted: use the stored secret. */
    partnerSecret: z.string().min(1).max(200).optional(),
  })
  .strict();
export type TestConnectionBody = z.infer<typeof testConnectionBody>;

export const updateOptionsBody = z.object({ options: z.record(z.string(), z.string().max(1000)) }).strict();

/** Purge from the dashboard: keep the last N seconds, or delete [start, end) (ISO times). */
export const purgeBody = z.union([
  z.object({ keepSeconds: z.number().min(0) }).strict(),
  z.object({ start: z.string().datetime(), end: z.string().datetime() }).strict(),
]);
export type PurgeBody = z.infer<typeof purgeBody>;

// ---------------------------------------------------------------------------------------------------------
// Edge (Kaltura's KES role: `/kCache/<origin-host>/<path>` on the origin listener). One operation (`edge.get`), one
// event (`edge.statistics`, every couple of seconds while the edge is on); joined into the operations, routes and
// events below.

export const edgeHostStatsSchema = z.object({
  /** The origin host as /kCache/ URLs name it (`host[:port]`). */
  host: z.string(),
  requests: z.number(),
  /** Answered from the cache (or by waiting for a fetch already under way). */
  hits: z.number(),
  /** Answered by an upstream request of their own. */
  misses: z.number(),
  /** Playlists served stale while upstream failed. */
  stale: z.number(),
  /** Upstream failures answered 502/504. */
  errors: z.number(),
  upstreamRequests: z.number(),
  bytesFromUpstream: z.number(),
  bytesServed: z.number(),
  /** (hits + stale) / requests, 0 to 1. */
  hitRatio: z.number(),
  /** 1 − bytes from upstream / bytes served, in percent. */
  wanSavingPercent: z.number(),
  /** Distinct client addresses that fetched through the edge within the last 30 s. */
  viewers: z.number(),
});
export type EdgeHostStatsView = z.infer<typeof edgeHostStatsSchema>;

export const edgeNodeSchema = z.object({
  name: z.string(),
  role: z.enum(['media', 'edge']),
  state: z.enum(['reporting', 'active', 'unmanaged', 'failed', 'stopped']),
  id: z.number().optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  fix: z.string().optional(),
  lastReportAt: z.string().optional(),
});

export const edgeViewSchema = z.object({
  /** Off when `--edge-origins` is empty (/kCache/ answers 404). */
  enabled: z.boolean(),
  /** The allowed origins (`host[:port]` over https, `http://host[:port]` over http). */
  origins: z.array(z.string()),
  /** The disk cache of immutable objects (`--edge-cache-size`). */
  cache: z.object({ bytes: z.number(), maxBytes: z.number(), objects: z.number() }),
  /** Requests for hosts not in the list (403, no upstream request). */
  refused: z.number(),
  hosts: z.array(edgeHostStatsSchema),
  /** The edge server node at Kaltura (`--edge-name`), when reported. */
  node: edgeNodeSchema.optional(),
  at: z.string(),
});
export type EdgeView = z.infer<typeof edgeViewSchema>;

export interface EdgeOperations {
  'edge.get': { request: void; response: EdgeView };
}

export const EDGE_ROUTES = {
  'edge.get': { method: 'GET', path: '/api/v1/edge' },
} as const;

export type EdgeEvent = { type: 'edge.statistics'; edge: EdgeView };

// ---------------------------------------------------------------------------------------------------------
// The slate: the picture shown (with silence) while a live channel's encoder is away; joined into the operations
// and routes below.

/** The slate's picture: the bundled card ("We'll be right back") or the image staff set. */
export interface SlateImageView {
  /** Whether staff set an image (else the bundled card plays). */
  custom: boolean;
  type: 'image/png' | 'image/jpeg';
  /** The image as a data URL, for a preview. */
  dataUrl: string;
  /** How long the slate plays before the presentation ends (`--slate-duration`, seconds); 0: no slate. */
  durationSeconds: number;
}

/** The largest slate image, in bytes (its base64 fits the admin listener's 1 MB body limit). */
export const MAX_SLATE_IMAGE_BYTES = 700 * 1024;

/** A new slate image: PNG or JPEG, base64 (at most {@link MAX_SLATE_IMAGE_BYTES} decoded, 3840x2160). */
export const slateImageBody = z
  .object({
    image: z
      .string()
      .min(1)
      .max(960_000)
      .regex(/^[A-Za-z0-9+/=\s]+$/, 'base64'),
  })
  .strict();
export type SlateImageBody = z.infer<typeof slateImageBody>;

export interface SlateOperations {
  'slate.get': { request: void; response: SlateImageView };
  /** Replaces the slate's image; the next slate shows it. */
  'slate.set': { request: SlateImageBody; response: SlateImageView };
  /** Back to the bundled card. */
  'slate.reset': { request: void; response: SlateImageView };
}

export const SLATE_ROUTES = {
  'slate.get': { method: 'GET', path: '/api/v1/slate' },
  'slate.set': { method: 'PUT', path: '/api/v1/slate' },
  'slate.reset': { method: 'DELETE', path: '/api/v1/slate' },
} as const;

// ---------------------------------------------------------------------------------------------------------
// Operations.

type EntryRef = { entryId: string };

export interface ControlOperations extends EdgeOperations, SlateOperations {
  'status.get': { request: void; response: ApplianceStatus };
  'channels.list': { request: void; response: { channels: ChannelView[] } };
  'channels.get': { request: EntryRef; response: ChannelView };
  'channels.create': { request: CreateChannelBody; response: ChannelView };
  'channels.update': {
    request: EntryRef & { name?: string; access?: 'open' | 'secure'; srtLatencyMs?: number };
    response: ChannelView;
  };
  'channels.delete': { request: EntryRef; response: { deleted: string } };
  'channels.start': { request: EntryRef; response: ChannelView };
  'channels.stop': { request: EntryRef; response: ChannelView };
  'channels.restart': { request: EntryRef; response: ChannelView };
  /** Standalone mode: a new stream token; encoders need it on their next connection (a live one keeps going). */
  'channels.rotateToken': { request: EntryRef; response: ChannelView };
  'channels.rotateSrtPassphrase': { request: EntryRef; response: ChannelView };
  'channels.events': { request: EntryRef; response: { events: ChannelEventView[] } };
  'channels.statistics': { request: EntryRef; response: { samples: StatisticsSample[] } };
  'channels.signedUrl': {
    request: EntryRef & { expiresIn?: number; ipRange?: string; resourcePrefix?: string };
    response: SignedUrlView;
  };
  /** Every signed URL handed out for the channel stops working at once (links made afterwards work). */
  'channels.revokeSignedUrls': { request: EntryRef; response: ChannelView };
  /** Clears the channel's blocks after failed publishes: the next publish is asked about at once. */
  'channels.allowNow': { request: EntryRef; response: ChannelView };
  /** Publishes that matched no channel (newest first, repeats counted), with what to do about each. */
  'ingest.refusals': { request: void; response: { refusals: RefusedPublishView[] } };
  'targets.list': { request: EntryRef; response: { targets: PushTargetView[] } };
  'targets.create': { request: EntryRef & CreatePushTargetBody; response: PushTargetView };
  'targets.update': {
    request: EntryRef & { targetId: string; name?: string; enabled?: boolean };
    response: PushTargetView;
  };
  'targets.delete': { request: EntryRef & { targetId: string }; response: { deleted: string } };
  'publishingPoints.get': { request: EntryRef; response: PublishingPointView };
  'publishingPoints.update': {
    request: EntryRef & { options: Record<string, string> };
    response: PublishingPointView;
  };
  'publishingPoints.archive': { request: EntryRef; response: ArchiveView };
  'publishingPoints.purge': { request: EntryRef & PurgeBody; response: { purged: number } };
  /** "Record this event": on or off, DVR window, days kept; makes the publishing point when there is none yet. */
  'publishingPoints.record': { request: EntryRef & RecordingBody; response: PublishingPointView };
  /** A one-time link (30 s) that downloads an archive range as one MP4 (best video and its audio, no re-encoding). */
  'publishingPoints.downloadLink': {
    request: EntryRef & { from: string; to: string };
    response: { url: string; expiresIn: number };
  };
  /** "Save to library": an archive range as one MP4 item of a space. */
  'publishingPoints.saveToLibrary': { request: EntryRef & SaveRangeBody; response: SavedRangeView };
  /** The library's spaces, for "Save to library". */
  'library.spaces': { request: void; response: { spaces: LibrarySpaceView[] } };
  'settings.get': { request: void; response: SettingsView };
  'settings.update': {
    request: SettingsInput & { apply?: SettingsApply };
    response: {
      settings: SettingsView;
      restartRequired: boolean;
      restarting: boolean;
      /** Settings applied to the running core without a restart. */
      applied?: SettingKey[];
    };
  };
  /** Sends a test notification to every webhook URL (`--webhook-url`); each receiver's answer. */
  'alerts.testWebhooks': {
    request: void;
    response: {
      configured: boolean;
      results: Array<{ url: string; ok: boolean; status?: number; error?: string }>;
    };
  };
  'settings.testConnection': {
    request: TestConnectionBody;
    response: { ok: true; partnerId: number; partnerName?: string; message: string };
  };
}
export type OperationName = keyof ControlOperations;
export type RequestOf<K extends OperationName> = ControlOperations[K]['request'];
export type ResponseOf<K extends OperationName> = ControlOperations[K]['response'];

export interface ControlRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** `:entryId` is filled from the request; the rest of the request is the JSON body (not for GET/DELETE). */
  path: string;
  /** Status of a success (default 200). */
  status?: number;
}

/** Where each operation lives on the admin listener. */
export const CONTROL_ROUTES = {
  ...EDGE_ROUTES,
  ...SLATE_ROUTES,
  'status.get': { method: 'GET', path: '/api/v1/status' },
  'channels.list': { method: 'GET', path: '/api/v1/channels' },
  'channels.get': { method: 'GET', path: '/api/v1/channels/:entryId' },
  'channels.create': { method: 'POST', path: '/api/v1/channels', status: 201 },
  'channels.update': { method: 'PATCH', path: '/api/v1/channels/:entryId' },
  'channels.delete': { method: 'DELETE', path: '/api/v1/channels/:entryId' },
  'channels.start': { method: 'POST', path: '/api/v1/channels/:entryId/start' },
  'channels.stop': { method: 'POST', path: '/api/v1/channels/:entryId/stop' },
  'channels.restart': { method: 'POST', path: '/api/v1/channels/:entryId/restart' },
  'channels.rotateToken': { method: 'POST', path: '/api/v1/channels/:entryId/token' },
  'channels.rotateSrtPassphrase': { method: 'POST', path: '/api/v1/channels/:entryId/srt-passphrase' },
  'channels.events': { method: 'GET', path: '/api/v1/channels/:entryId/events' },
  'channels.statistics': { method: 'GET', path: '/api/v1/channels/:entryId/statistics' },
  'channels.signedUrl': { method: 'POST', path: '/api/v1/channels/:entryId/signed-url' },
  'channels.revokeSignedUrls': { method: 'POST', path: '/api/v1/channels/:entryId/signed-url/revoke' },
  'channels.allowNow': { method: 'POST', path: '/api/v1/channels/:entryId/allow' },
  'ingest.refusals': { method: 'GET', path: '/api/v1/ingest/refusals' },
  'targets.list': { method: 'GET', path: '/api/v1/channels/:entryId/targets' },
  'targets.create': { method: 'POST', path: '/api/v1/channels/:entryId/targets', status: 201 },
  'targets.update': { method: 'PATCH', path: '/api/v1/channels/:entryId/targets/:targetId' },
  'targets.delete': { method: 'DELETE', path: '/api/v1/channels/:entryId/targets/:targetId' },
  'publishingPoints.get': { method: 'GET', path: '/api/v1/channels/:entryId/publishing-point' },
  'publishingPoints.update': { method: 'PUT', path: '/api/v1/channels/:entryId/publishing-point' },
  'publishingPoints.archive': { method: 'GET', path: '/api/v1/channels/:entryId/archive' },
  'publishingPoints.purge': { method: 'POST', path: '/api/v1/channels/:entryId/purge' },
  'publishingPoints.record': { method: 'PUT', path: '/api/v1/channels/:entryId/recording' },
  'publishingPoints.downloadLink': {
    method: 'POST',
    path: '/api/v1/channels/:entryId/archive/download-link',
  },
  'publishingPoints.saveToLibrary': {
    method: 'POST',
    path: '/api/v1/channels/:entryId/archive/library',
    status: 201,
  },
  'library.spaces': { method: 'GET', path: '/api/v1/library/spaces' },
  'settings.get': { method: 'GET', path: '/api/v1/settings' },
  'settings.update': { method: 'PATCH', path: '/api/v1/settings' },
  'settings.testConnection': { method: 'POST', path: '/api/v1/settings/test-connection' },
  'alerts.testWebhooks': { method: 'POST', path: '/api/v1/alerts/webhooks/test' },
} as const satisfies Record<OperationName, ControlRoute>;

export const OPERATION_NAMES = Object.keys(CONTROL_ROUTES) as OperationName[];

export function isOperationName(v: unknown): v is OperationName {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(CONTROL_ROUTES, v);
}

// ---------------------------------------------------------------------------------------------------------
// Events, pushed to every dashboard (IPC: `ecdn:event`; browsers: WebSocket `/api/v1/events`).

export type ControlEvent =
  /** A channel was created, changed (name, access, accepting) or deleted: refetch the list. */
  | { type: 'channels.changed'; entryId: string }
  /** A channel's push targets changed (added, removed, enabled, disabled) or one changed state. */
  | { type: 'targets.changed'; entryId: string }
  /** A publish that matched no channel was refused (the "Refused publishes" panel). */
  | { type: 'refusals.changed' }
  | { type: 'channel.state'; entryId: string; state: PublishingPointState }
  /** A channel's event log grew (rejections, restart steps, purge progress...). */
  | { type: 'channel.event'; entryId: string; event: ChannelEventView }
  /** Every couple of seconds, one sample per channel with any activity. */
  | { type: 'statistics'; samples: StatisticsSample[] }
  /** The appliance core is about to restart (settings applied); reconnect at `adminUrl`. */
  | { type: 'appliance.restarting'; adminUrl: string }
  /** The edge's statistics (see "Edge" above). */
  | EdgeEvent;

/** The surface the preload exposes as `window.ecdn` (and the browser client implements). */
export interface ControlBridge {
  invoke<K extends OperationName>(operation: K, request: RequestOf<K>): Promise<ControlResult<ResponseOf<K>>>;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void;
}

/**
 * A failure of an operation as a value: its HTTP status, a code of {@link ERROR_CODES} (or another stable code) and
 * a message staff can act on. Thrown by the core's operations; both transports turn it into a `ControlErrorValue`.
 */
export class ControlFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The publishing point's ingest state (Unified Streaming's `/state`): the origin is its only writer. */
export type PublishingPointState = 'idle' | 'starting' | 'started' | 'stopping' | 'stopped';

/** The IPC channels between the preload and the main process: control calls in, control events out. */
export const IPC_CHANNELS = { control: 'ecdn:control', event: 'ecdn:event' } as const;
