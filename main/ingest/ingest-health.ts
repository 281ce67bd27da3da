/**
 * Ingest health, measured from the packets an encoder sends (not from what its metadata announces): frame rate,
 * bitrate (average and peak over 10 s), key frame interval, B-frames, whether audio arrives, timestamp jumps, and
 * drift (how far the encoder's timestamps fall behind the wall clock since it started). The RTMP child keeps one per
 * publishing session and sends a snapshot to the core every 2 s; the core adds the age of the last packet.
 */
import type { IngestHealthView } from '../contract/contract.js';

/**
 * What the core receives, every 2 s per session: the contract's view of it, with the wall clock of the last packet
 * (the core turns it into the time since).
 */
export type IngestHealthSnapshot = Omit<IngestHealthView, 'lastPacketAgeMs'> & {
  /** Wall clock of the last packet (ms since the epoch). */
  lastPacketAt: number;
};

/** The fields of a node-media-server AVPacket the measurement reads. */
export interface HealthPacket {
  codec_type: number;
  flags: number;
  dts: number;
  pts: number;
  size: number;
}

const WINDOW_MS = 10_000;
const JUMP_MS = 5_000;
const AUDIO = 8;
const VIDEO = 9;
/** node-media-server's flags: a video key frame, an inter frame. */
const KEY_FRAME = 3;
const INTER_FRAME = 4;

export class IngestHealthMeter {
  /** [arrival ms, bytes, isVideoFrame] of the packets in the window. */
  private readonly recent: Array<[number, number, boolean]> = [];
  private lastKeyDts: number | undefined;
  private keyInterval: number | null = null;
  private bFrames = false;
  private lastDts = new Map<number, number>();
  private jumps = 0;
  private lastAudioAt = -Infinity;
  private lastVideoAt = -Infinity;
  private lastPacketAt = 0;
  /** The least (arrival − dts) seen, and the latest: their difference is the drift. */
  private minOffset = Number.POSITIVE_INFINITY;
  private lastOffset = 0;

  constructor(private readonly now: () => number = Date.now) {}

  packet(p: HealthPacket): void {
    if (p.codec_type !== AUDIO && p.codec_type !== VIDEO) return;
    const at = this.now();
    this.lastPacketAt = at;
    const frame = p.codec_type === VIDEO && (p.flags === KEY_FRAME || p.flags === INTER_FRAME);
    this.recent.push([at, p.size, frame]);
    while (this.recent.length > 0 && at - (this.recent[0]?.[0] ?? at) > WINDOW_MS) this.recent.shift();
    if (p.codec_type === AUDIO) this.lastAudioAt = at;
    else if (frame) this.lastVideoAt = at;
    const previous = this.lastDts.get(p.codec_type);
    if (previous !== undefined && (p.dts < previous || p.dts - previous > JUMP_MS)) this.jumps++;
    this.lastDts.set(p.codec_type, p.dts);
    if (p.codec_type === VIDEO && p.flags === KEY_FRAME) {
      if (this.lastKeyDts !== undefined && p.dts > this.lastKeyDts)
        this.keyInterval = p.dts - this.lastKeyDts;
      this.lastKeyDts = p.dts;
    }
    if (frame && p.pts !== p.dts) this.bFrames = true;
    const offset = at - p.dts;
    this.minOffset = Math.min(this.minOffset, offset);
    this.lastOffset = offset;
  }

  snapshot(): IngestHealthSnapshot {
    const at = this.now();
    const inWindow = this.recent.filter(([t]) => at - t <= WINDOW_MS);
    const span = inWindow.length > 1 ? Math.max(1000, at - (inWindow[0]?.[0] ?? at)) : WINDOW_MS;
    const bytes = inWindow.reduce((n, [, b]) => n + b, 0);
    const perSecond = new Map<number, number>();
    for (const [t, b] of inWindow)
      perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + b);
    // The current second is still filling: the peak is over whole seconds.
    perSecond.delete(Math.floor(at / 1000));
    const frames = inWindow.filter(([, , f]) => f).length;
    return {
      fps: frames > 0 ? Math.round((frames * 1000 * 10) / span) / 10 : null,
      bitrate: Math.round((bytes * 8 * 1000) / span),
      peakBitrate: Math.max(0, ...[...perSecond.values()].map((b) => b * 8)),
      keyFrameIntervalMs: this.keyInterval,
      bFrames: this.bFrames,
      audio: at - this.lastAudioAt <= WINDOW_MS,
      video: at - this.lastVideoAt <= WINDOW_MS,
      timestampJumps: this.jumps,
      driftMs: Number.isFinite(this.minOffset) ? Math.max(0, this.lastOffset - this.minOffset) : 0,
      lastPacketAt: this.lastPacketAt,
    };
  }
}

export type IngestWarningCode =
  'KEYFRAME_INTERVAL' | 'NO_AUDIO' | 'TIMESTAMP_JUMP' | 'DRIFTING' | 'BITRATE_HIGH';

/**
 * How far above the conversion profile's top rendition an encoder's bitrate may go before it is worth a word: the
 * source rendition is served as sent, so every viewer who picks it pulls the encoder's bitrate.
 */
export const BITRATE_HIGH_FACTOR = 3;

export interface IngestWarning {
  code: IngestWarningCode;
  /** In plain words, with the fix. */
  message: string;
}

/**
 * What is wrong with an ingest, in plain words with the fix; `fragmentSeconds` is the publishing point's,
 * `profileTopBps` the video bitrate of the conversion profile's highest transcoded rendition (absent: a profile
 * without one, such as passthrough).
 */
export function ingestWarnings(
  h: IngestHealthSnapshot,
  fragmentSeconds: number,
  profileTopBps?: number,
): IngestWarning[] {
  const out: IngestWarning[] = [];
  const gop = h.keyFrameIntervalMs;
  const fragmentMs = fragmentSeconds * 1000;
  // A key frame interval that does not divide the fragment duration makes fragments of uneven length.
  if (gop !== null && gop > 0) {
    const ratio = fragmentMs / gop;
    if (gop > fragmentMs + 100 || Math.abs(ratio - Math.round(ratio)) > 0.05) {
      out.push({
        code: 'KEYFRAME_INTERVAL',
        message: `key frames every ${(gop / 1000).toFixed(1)} s do not fit ${fragmentSeconds} s fragments: set the encoder's key frame interval to ${fragmentSeconds} s (or a divisor of it)`,
      });
    }
  }
  if (h.video && !h.audio) {
    out.push({
      code: 'NO_AUDIO',
      message: "no audio arrives: check the encoder's audio source (viewers hear nothing)",
    });
  }
  if (h.timestampJumps > 0) {
    out.push({
      code: 'TIMESTAMP_JUMP',
      message: `the encoder's timestamps jumped ${h.timestampJumps} time(s): players may stall; restart the encoder if it repeats`,
    });
  }
  if (profileTopBps && h.bitrate > profileTopBps * BITRATE_HIGH_FACTOR) {
    const mbps = (bps: number) => (bps / 1e6).toFixed(1);
    out.push({
      code: 'BITRATE_HIGH',
      message: `the encoder sends ${mbps(h.bitrate)} Mb/s, more than ${BITRATE_HIGH_FACTOR}× the conversion profile's top rendition (${mbps(profileTopBps)} Mb/s): each viewer of the source rendition pulls that much; set the encoder to about ${mbps(profileTopBps * 2)} Mb/s`,
    });
  }
  if (h.driftMs > 5_000) {
    out.push({
      code: 'DRIFTING',
      message: `the encoder is ${(h.driftMs / 1000).toFixed(1)} s behind real time: its machine or uplink cannot keep up (lower its bitrate or resolution)`,
    });
  }
  return out;
}
