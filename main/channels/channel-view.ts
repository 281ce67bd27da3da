/** Turns a channel record and its live state into the control API's ChannelView. */
import type {
  ChannelAlertView,
  ChannelEventView,
  ChannelView,
  ContentMonitorView,
  RenditionStats,
  SrtIngestView,
  SrtStatsView,
} from '../contract/contract.js';
import { buildBroadcastUrl } from '../ingest/broadcast-url.js';
import { buildSrtStreamId, buildSrtUrl } from '../ingest/srt-stream-id.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import type { ChannelEvent, ChannelRecord } from './channel-store.js';
import type { LiveChannels } from './live-channels.js';
import { bracketHost } from '../lib/host-name.js';

export interface PublicEndpoints {
  host: string;
  rtmpPort: number;
  httpPort: number;
  /** The SRT ingest's port (absent or 0: SRT is off). */
  srtPort?: number;
}

/** The content monitor (main/monitor/), as a channel's view shows it. */
export interface ChannelContent {
  channelAlerts(entryId: string): ChannelAlertView[];
  channelMonitor(entryId: string): ContentMonitorView | undefined;
  /** SRT statistics of an ingest session that is an SRT caller's (undefined: RTMP). */
  srtStatsOf?(sessionId: string): SrtStatsView | undefined;
  /** Whether an ingest session is an SRT caller's (before its first statistics). */
  isSrtSession?(sessionId: string): boolean;
}

export function channelView(
  c: ChannelRecord,
  ep: PublicEndpoints,
  index: SegmentIndex,
  live: LiveChannels,
  content?: ChannelContent,
): ChannelView {
  const monitor = content?.channelMonitor(c.entryId);
  const host = bracketHost(ep.host);
  const primary = buildBroadcastUrl(ep.host, ep.rtmpPort, c.partnerId, c.entryId, c.token, 0);
  const backup = buildBroadcastUrl(ep.host, ep.rtmpPort, c.partnerId, c.entryId, c.token, 1);
  const ppPath = `/${c.entryId}/${c.entryId}.isml`;
  const state = index.getPublishingPoint(c.entryId)?.state ?? 'idle';
  const origin = `http://${host}:${ep.httpPort}${ppPath}`;
  return {
    entryId: c.entryId,
    partnerId: c.partnerId,
    name: c.name,
    token: c.token,
    createdAt: new Date(c.createdAt).toISOString(),
    access: c.access,
    signedGeneration: c.signedGeneration,
    blocks: live.blocksOf(c.entryId).map((b) => ({ ...b, until: new Date(b.until).toISOString() })),
    accepting: c.accepting,
    broadcastUrl: primary,
    backupBroadcastUrl: backup,
    streamName: `${c.entryId}_1`,
    rtmp: { server: primary, backupServer: backup, streamKey: `${c.entryId}_1` },
    ...(ep.srtPort ? { srt: srtView(c, ep.host, ep.srtPort) } : {}),
    ...lastPublishOf(live, c.entryId),
    ...(c.kalturaBroadcastUrl && !pointsHere(c.kalturaBroadcastUrl, ep.host)
      ? { kalturaBroadcastUrl: c.kalturaBroadcastUrl }
      : {}),
    publishingPoint: { name: `${c.entryId}.isml`, path: ppPath, state },
    state,
    playback: { hls: `${origin}/.m3u8`, dash: `${origin}/.mpd` },
    ingests: live.ingestsOf(c.entryId).map((s) => ({
      sessionId: s.sessionId,
      role: s.request.serverIndex === 0 ? 'primary' : 'backup',
      streamName: s.request.streamName,
      remote: s.remote,
      startedAt: new Date(s.startedAt).toISOString(),
      feeding: s.feeding,
      metadata: { ...s.metadata },
      ...(s.health
        ? {
            health: {
              ...(({ lastPacketAt: _at, ...h }) => h)(s.health),
              lastPacketAgeMs: Math.max(0, Date.now() - s.health.lastPacketAt),
            },
          }
        : {}),
      warnings: (s.warnings ?? []).map((w) => ({ code: w.code, message: w.message })),
      ...transportOf(s.sessionId, content),
    })),
    statistics: renditionProgress(live, c.entryId).map(({ bytes: _bytes, ...r }) => r),
    alerts: content?.channelAlerts(c.entryId) ?? [],
    ...(monitor ? { monitor } : {}),
  };
}

/** Each rendition's transcoder progress now (fps, speed, bitrate, dropped frames, bytes written, restarts). */
/** Whether a broadcast URL sends encoders to this appliance (its public host, or loopback). */
export function pointsHere(url: string, host: string): boolean {
  try {
    const h = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return h === host.toLowerCase() || h === 'localhost' || h === '127.0.0.1' || h === '::1';
  } catch {
    return true;
  }
}

function lastPublishOf(live: LiveChannels, entryId: string): Pick<ChannelView, 'lastPublish'> {
  const a = live.attempts.of(entryId);
  return a ? { lastPublish: { ...a, at: new Date(a.at).toISOString() } } : {};
}

function srtView(c: ChannelRecord, host: string, port: number): SrtIngestView {
  return {
    url: buildSrtUrl(host, port),
    streamId: buildSrtStreamId(c.entryId, 0, c.token),
    backupStreamId: buildSrtStreamId(c.entryId, 1, c.token),
    plainStreamId: `${c.entryId}_1`,
    ...(c.srtPassphrase ? { passphrase: c.srtPassphrase } : {}),
    latencyMs: c.srtLatencyMs,
  };
}

function transportOf(
  sessionId: string,
  content: ChannelContent | undefined,
): { transport?: 'srt'; srt?: SrtStatsView } {
  if (!content?.isSrtSession?.(sessionId)) return {};
  const srt = content.srtStatsOf?.(sessionId);
  return { transport: 'srt', ...(srt ? { srt } : {}) };
}

export function renditionProgress(
  live: LiveChannels,
  entryId: string,
): Array<RenditionStats & { bytes: number }> {
  return live.transcodersOf(entryId).map(({ streamName, transcoder }) => ({
    streamName,
    fps: transcoder.lastProgress?.fps ?? 0,
    speed: transcoder.lastProgress?.speed ?? null,
    bitrate: transcoder.lastProgress?.bitrate ?? null,
    dropFrames: transcoder.lastProgress?.dropFrames ?? 0,
    restarts: transcoder.restarts,
    bytes: transcoder.lastProgress?.totalSize ?? 0,
  }));
}

export function eventView(e: ChannelEvent): ChannelEventView {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    level: e.level,
    code: e.code,
    message: e.message,
    ...(e.count > 1 ? { count: e.count, firstAt: new Date(e.firstAt).toISOString() } : {}),
  };
}
