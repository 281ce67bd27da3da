/**
 * The slate: while a live channel's encoder is away (its last ingest stopped, the channel was not stopped), a
 * still card ("We'll be right back", or the image staff set) with silent audio continues the presentation in
 * every rendition, at the rendition's own size, H.264 profile and level, sample rate and channels, so players
 * neither switch nor stall. One ffmpeg per publishing point, paced to real time (after catching up with the wall
 * clock: its first fragment is out at once), writing into the same tracks on the same timeline (from where the
 * encoder's media ended) as its own run: its own init segments, a discontinuity before it and after it. It ends when the encoder returns, the channel stops, or after
 * `--slate-duration`; its fragments are marked as the slate's (`/archive` shows them as such).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import { SLATE_FEED, type FragmentWriter, type TrackSpec } from '../origin/fragment-writer.js';
import { resolvePpOptions } from '../origin/publishing-point-options.js';
import type { TrackRecord } from '../origin/segment-index.js';
import {
  GLOBAL_ARGS,
  MOVFLAGS,
  MP4_ARGS,
  OUTPUT_TS_OFFSET,
  PROGRESS_ARGS,
  type PlannedTrack,
  type TranscodePlan,
} from './ffmpeg-args.js';
import { Transcoder } from './transcoder.js';

/** What the slate needs to know of a track to match it (a track record of the segment index fits). */
export type SlateTrack = Pick<
  TrackRecord,
  | 'trackName'
  | 'kind'
  | 'codecs'
  | 'width'
  | 'height'
  | 'frameRate'
  | 'bitrate'
  | 'sampleRate'
  | 'channels'
  | 'audioTrack'
>;

export interface SlatePlanOptions {
  /** A PNG or JPEG: scaled to fit each rendition, on black. */
  image: string;
  /** Seconds between key frames and per fragment (the publishing point's fragment_duration). */
  fragmentDuration: number;
  /** Low-latency HLS: fragments (parts) of this many seconds. */
  partDuration?: number;
  /**
   * Seconds the slate starts behind the wall clock (where the encoder's media ended): that much is made at once,
   * the rest in real time, so its first fragment is out at once and its live edge is where the encoder's would be.
   */
  catchUp?: number;
  /** File descriptor of the first track's pipe; default 3. */
  firstFd?: number;
}

const DEFAULT_SIZE = { width: 1280, height: 720 };
const DEFAULT_FRAME_RATE = 30;
/** A still picture needs few bits; never more than the rendition's own bitrate. */
const SLATE_VIDEO_BITRATE = 400_000;
const H264_PROFILES: Record<number, string> = { 66: 'baseline', 77: 'main', 100: 'high' };

/** `avc1.PPCCLL` -> x264's profile and level (e.g. avc1.64001f -> high, 3.1); main 3.1 when unreadable. */
export function h264ProfileOf(codecs: string): { profile: string; level: string } {
  const m = /avc[13]\.([0-9a-f]{2})[0-9a-f]{2}([0-9a-f]{2})/i.exec(codecs);
  const profile = (m && H264_PROFILES[parseInt(m[1] as string, 16)]) || 'main';
  const levelIdc = m ? parseInt(m[2] as string, 16) : 31;
  return { profile, level: (levelIdc / 10).toFixed(1) };
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/**
 * The slate's ffmpeg: the image looped at each video track's frame rate, split and scaled to each rendition
 * (fit, padded with black), key frames every fragment; silent AAC per audio track. Output k is track k, as fMP4
 * on `pipe:<firstFd + k>`, shaped as the transcoder's (ffmpeg-args.ts), with time starting at OUTPUT_TS_OFFSET.
 */
export function planSlate(tracks: readonly SlateTrack[], opts: SlatePlanOptions): TranscodePlan {
  const firstFd = opts.firstFd ?? 3;
  if (!Number.isFinite(opts.fragmentDuration) || opts.fragmentDuration <= 0)
    throw new RangeError(
      `fragmentDuration must be a positive number of seconds, got ${opts.fragmentDuration}`,
    );
  if (tracks.length === 0) throw new Error('the slate needs at least one track to play into');
  const videos = tracks.filter((t) => t.kind === 'video');
  const audios = tracks.filter((t) => t.kind === 'audio');
  const frameRate = videos.find((t) => t.frameRate)?.frameRate ?? DEFAULT_FRAME_RATE;
  const usec = (seconds: number): string => String(Math.round(seconds * 1_000_000));
  const fragment = opts.partDuration ?? opts.fragmentDuration;

  const catchUp = Math.max(0, opts.catchUp ?? 0);
  const args = [...GLOBAL_ARGS, ...PROGRESS_ARGS];
  // The image is decoded once (and scaled once per rendition), then repeated by the `loop` filter.
  if (videos.length > 0) args.push('-framerate', String(frameRate), '-i', opts.image);
  const audioInput = (t: SlateTrack): number => (videos.length > 0 ? 1 : 0) + audios.indexOf(t);
  for (const a of audios) {
    const layout = a.channels === 1 ? 'mono' : 'stereo';
    args.push('-f', 'lavfi', '-i', `anullsrc=r=${a.sampleRate ?? 48_000}:cl=${layout}`);
  }
  // Paced to real time by (a)realtime, as an encoder sends: the first `catchUp` seconds pass it at once (their
  // timestamps are held at 0 in front of it, and numbered again behind it). N counts frames, or audio samples.
  const paced = (rate: number, audio: boolean): string => {
    const [setpts, realtime] = audio ? ['asetpts', 'arealtime'] : ['setpts', 'realtime'];
    const burst = Math.round(catchUp * rate);
    const real = `${setpts}=N/(${rate}*TB)`;
    return burst > 0
      ? `${setpts}='if(lt(N,${burst}),0,(N-${burst})/(${rate}*TB))',${realtime},${real}`
      : `${realtime},${real}`;
  };
  const graph: string[] = [];
  if (videos.length > 0) {
    graph.push(`[0:v]format=yuv420p,split=${videos.length}${videos.map((_t, k) => `[s${k}]`).join('')}`);
    videos.forEach((t, k) => {
      const [w, h] = [even(t.width ?? DEFAULT_SIZE.width), even(t.height ?? DEFAULT_SIZE.height)];
      graph.push(
        `[s${k}]scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2,` +
          `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,` +
          `loop=loop=-1:size=1:start=0,${paced(frameRate, false)}[v${k}]`,
      );
    });
  }
  audios.forEach((a, k) => graph.push(`[${audioInput(a)}:a]${paced(a.sampleRate ?? 48_000, true)}[a${k}]`));
  args.push('-filter_complex', graph.join(';'));
  const planned: PlannedTrack[] = [];
  tracks.forEach((t, k) => {
    if (t.kind === 'video') {
      const v = videos.indexOf(t);
      const { profile, level } = h264ProfileOf(t.codecs);
      const maxrate = Math.min(SLATE_VIDEO_BITRATE, t.bitrate ?? SLATE_VIDEO_BITRATE);
      args.push(
        ...['-map', `[v${v}]`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'],
        ...['-tune', 'zerolatency', '-profile:v', profile, '-level:v', level],
        ...['-b:v', String(maxrate), '-maxrate', String(maxrate), '-bufsize', String(2 * maxrate)],
        ...['-g', '100000', '-sc_threshold', '0'],
        ...['-force_key_frames', `expr:gte(t,n_forced*${Number(opts.fragmentDuration.toFixed(6))})`],
        ...MP4_ARGS,
        ...['-movflags', `+frag_keyframe${MOVFLAGS}`],
        ...(opts.partDuration !== undefined
          ? ['-frag_duration', usec(opts.partDuration)]
          : ['-min_frag_duration', usec(opts.fragmentDuration * 0.9)]),
      );
      planned.push({
        trackName: t.trackName,
        kind: 'video',
        encode: 'slate',
        passthrough: false,
        codec: 'h264',
        bitrate: maxrate,
        width: even(t.width ?? DEFAULT_SIZE.width),
        height: even(t.height ?? DEFAULT_SIZE.height),
        ...(t.audioTrack ? { audioTrack: t.audioTrack } : {}),
      });
    } else {
      args.push(
        ...['-map', `[a${audios.indexOf(t)}]`, '-c:a', 'aac', '-b:a', '64000'],
        ...['-ar', String(t.sampleRate ?? 48_000), '-ac', String(t.channels === 1 ? 1 : 2)],
        ...MP4_ARGS,
        ...['-movflags', MOVFLAGS, '-frag_duration', usec(fragment)],
      );
      planned.push({
        trackName: t.trackName,
        kind: 'audio',
        encode: 'slate',
        passthrough: false,
        codec: 'aac',
        bitrate: 64_000,
      });
    }
    args.push(`pipe:${firstFd + k}`);
  });
  return { args, tracks: planned, dropped: [], warnings: [] };
}

export interface SlatePlayerOptions {
  ffmpegPath: string;
  fragments: FragmentWriter;
  /** The image to show now: the one staff set, else the bundled card. */
  image: () => string;
  /** How long the slate may play before the presentation ends (ms); 0: never a slate. */
  durationMs: number;
  log: Logger;
}

export interface SlatePlayerEvents {
  /** The slate went on air in a publishing point: its tracks. */
  started: [pp: string, tracks: string[]];
  /** The slate ended: its time was up (`expired`), or it was stopped (the encoder returned, the channel stopped). */
  ended: [pp: string, why: 'expired' | 'stopped'];
}

interface OnAir {
  transcoder: Transcoder;
  timer: NodeJS.Timeout;
  stopped?: Promise<void>;
}

/** The slates on air, one per publishing point. */
export class SlatePlayer extends EventEmitter<SlatePlayerEvents> {
  private readonly onAir = new Map<string, OnAir>();

  constructor(private readonly o: SlatePlayerOptions) {
    super();
  }

  get enabled(): boolean {
    return this.o.durationMs > 0;
  }

  /** How long the slate may play (ms). */
  get durationMs(): number {
    return this.o.durationMs;
  }

  /** Whether the slate plays in a publishing point now. */
  playing(pp: string): boolean {
    return this.onAir.has(pp);
  }

  /**
   * Puts the slate on air in a publishing point, in the tracks that were fed until its presentation ended;
   * false when it cannot (disabled, already on, nothing to continue).
   */
  play(pp: string): boolean {
    const { fragments, log } = this.o;
    if (!this.enabled || this.onAir.has(pp)) return false;
    const index = fragments.index;
    const rec = index.getPublishingPoint(pp);
    if (!rec) return false;
    const o = resolvePpOptions(rec.options);
    const timing = {
      fragmentDuration: o.fragmentDuration,
      ...(o.hlsLowLatency ? { partDuration: o.hlsPartDuration } : {}),
    };
    const end = fragments.presentationEnd(pp);
    // The tracks fed up to the end (not those of an earlier run that left the ladder).
    const tracks = index.tracks(pp).filter((t) => {
      const last = index.lastFragment(t.id);
      return last && (last.mediaTime + last.duration) / t.timescale >= end - 2 * timing.fragmentDuration - 1;
    });
    if (tracks.length === 0) return false;
    // Where the encoder's media ended is behind the wall clock (it was cut, the transcoder drained): the slate makes
    // up that much at once (at most three fragments), so its first fragment is out at once.
    const behind = (Date.now() - rec.epoch) / 1000 - end;
    const catchUp = Math.min(3 * timing.fragmentDuration, Math.max(0, behind));
    const plan = planSlate(tracks, { image: this.o.image(), ...timing, catchUp });
    const specs: TrackSpec[] = tracks.map((t) => ({
      trackName: t.trackName,
      kind: t.kind,
      ...(t.bitrate ? { bitrate: t.bitrate } : {}),
      ...(t.frameRate ? { frameRate: t.frameRate } : {}),
      ...(t.audioTrack ? { audioTrack: t.audioTrack } : {}),
    }));
    const names = specs.map((t) => t.trackName);
    const transcoder = new Transcoder({
      ffmpegPath: this.o.ffmpegPath,
      plan,
      // The slate continues where the presentation ended (read at its first fragment, once the encoder's last
      // fragments are in): its time OUTPUT_TS_OFFSET is that end.
      beginRun: () =>
        fragments.beginRun(pp, specs, SLATE_FEED, () => ({
          wallClock: rec.epoch + fragments.presentationEnd(pp, names) * 1000,
          timelineZero: OUTPUT_TS_OFFSET,
        })),
      log: log.child({ pp, part: 'slate' }),
    });
    log.info({ pp, tracks: names, catchUp: Math.round(catchUp * 1000) / 1000 }, 'slate on air');
    const timer = setTimeout(() => void this.end(pp, 'expired'), this.o.durationMs);
    this.onAir.set(pp, { transcoder, timer });
    transcoder.start();
    this.emit('started', pp, names);
    return true;
  }

  /** Takes the slate off air (the encoder returned, the channel stopped); its last fragments are written. */
  stop(pp: string): Promise<void> {
    return this.end(pp, 'stopped');
  }

  /** Every slate off air (shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.onAir.keys()].map((pp) => this.stop(pp)));
  }

  private end(pp: string, why: 'expired' | 'stopped'): Promise<void> {
    const air = this.onAir.get(pp);
    if (!air) return Promise.resolve();
    clearTimeout(air.timer);
    air.stopped ??= air.transcoder.stop(0).finally(() => {
      this.onAir.delete(pp);
      this.emit('ended', pp, why);
    });
    return air.stopped;
  }
}
