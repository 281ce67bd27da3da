/**
 * One cheap ffmpeg per live channel, apart from its transcoders: it pulls the stream the origin is fed from the
 * RTMP ingest (its own single-use key), decodes only the key frames of the video (`-skip_frame nokey`) and all of
 * the audio, and
 * - looks for a black picture (blackdetect), a frozen picture (freezedetect) and silence (silencedetect) on a
 *   160 px wide picture, its log read by content-signals.ts, the conditions kept by content-conditions.ts;
 * - writes a 320 px wide JPEG thumbnail at most every 5 s (`-update 1`, written atomically) next to the
 *   publishing point's files, served at `/<entry>/<entry>.isml/thumbnail.jpg`.
 * It starts once the publishing point is `started` (so it never delays the first fragment), runs at a lower
 * priority than the transcoders, follows a switch to the backup ingest, and is restarted with backoff if it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import type { ChannelAlertView, ContentMonitorView } from '../contract/contract.js';
import type { Logger } from '../lib/logger.js';
import {
  ContentConditions,
  DEFAULT_RULES,
  type ActiveCondition,
  type ConditionChange,
  type ContentCondition,
} from './content-conditions.js';
import { SignalReader, type ContentSignal } from './content-signals.js';

/** The detectors' thresholds (README, "On-air confidence"). */
export const DETECTION_DEFAULTS = {
  /** blackdetect: a picture is black when this share of its pixels is darker than `blackPixel`. */
  blackPicture: 0.98,
  /** blackdetect: a pixel is black below this luma (0 to 1 of the video range). */
  blackPixel: 0.1,
  /** freezedetect: pictures that differ by less than this are the same (dB). */
  freezeNoiseDb: -60,
  /** silencedetect: audio below this level is silence (dB). */
  silenceNoiseDb: -50,
  /** Width (px) of the picture the detectors look at. */
  analysisWidth: 160,
  /** Width (px) of the thumbnail. */
  thumbnailWidth: 320,
  /** At most one thumbnail every this many seconds. */
  thumbnailEverySeconds: 5,
} as const;

const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
/** A run that lasted this long resets the backoff. */
const HEALTHY_MS = 30_000;
const TICK_MS = 1000;
/** Below the transcoders (0): the monitor waits when the machine is busy, the stream does not. */
const NICE = 10;

export interface MonitorSource {
  /** The ingest session the monitor pulls (a new one: the monitor follows it). */
  sessionId: string;
  internalPath: string;
  hasVideo: boolean;
  hasAudio: boolean;
}

/** The ffmpeg arguments of a monitor: `input` the pull URL, `thumbnail` the JPEG it keeps overwriting. */
export function monitorArgs(
  input: string,
  thumbnail: string,
  o: { hasVideo: boolean; hasAudio: boolean },
  d: typeof DETECTION_DEFAULTS = DETECTION_DEFAULTS,
): string[] {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-y'];
  // Key frames only: the decode is the cost, and one picture per key frame interval is enough to judge.
  args.push('-threads', '1', '-skip_frame', 'nokey', '-i', input);
  // Detection: every key frame (at most 4 a second, for all-intra streams) on a small picture, its time printed
  // (the `ecdn.frame` mark makes metadata=print print every frame), and the audio's level.
  const freezeSeconds = DEFAULT_RULES.freeze.minMs / 1000;
  const video = [
    "select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,0.25)'",
    `scale=${d.analysisWidth}:-2`,
    'metadata=mode=add:key=ecdn.frame:value=1',
    `blackdetect=d=0:pic_th=${d.blackPicture}:pix_th=${d.blackPixel}`,
    // freezedetect needs d at least the key frame spacing; it says when a freeze began once it lasted d.
    `freezedetect=n=${d.freezeNoiseDb}dB:d=${freezeSeconds}`,
    'metadata=mode=print',
  ].join(',');
  if (o.hasVideo) args.push('-map', '0:v:0?', '-filter:v', video);
  if (o.hasAudio) args.push('-map', '0:a:0?', '-filter:a', `silencedetect=n=${d.silenceNoiseDb}dB:d=1`);
  args.push('-fps_mode', 'passthrough', '-f', 'null', '-');
  if (o.hasVideo) {
    const every = d.thumbnailEverySeconds - 0.1;
    args.push(
      '-map',
      '0:v:0?',
      '-filter:v',
      `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${every})',scale=${d.thumbnailWidth}:-2`,
      '-fps_mode',
      'passthrough',
      '-q:v',
      '5',
      '-f',
      'image2',
      '-update',
      '1',
      '-atomic_writing',
      '1',
      thumbnail,
    );
  }
  return args;
}

export interface ChannelMonitorView {
  running: boolean;
  /** Seconds between the key frames decoded (median of the last few), when known. */
  keyFrameInterval: number | null;
  /** When the thumbnail was last written. */
  thumbnailAt: number | null;
  alerts: ActiveCondition[];
}

export interface ChannelMonitorOptions {
  entryId: string;
  ffmpegPath: string;
  /** The stream to watch now (the one feeding the origin), or undefined when there is none. */
  source: () => MonitorSource | undefined;
  /** A single-use pull URL for one ffmpeg process. */
  pullUrl: (internalPath: string) => string;
  thumbnailFile: string;
  onChange: (c: ConditionChange) => void;
  log: Logger;
  now?: () => number;
  backoffMs?: readonly number[];
}

/** The monitor of one channel: its ffmpeg (restarted while wanted) and its conditions. */
export class ChannelMonitor {
  private child: ChildProcess | undefined;
  private pulling: string | undefined;
  private stopped = false;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly conditions: ContentConditions;
  /** Wall clock (ms) minus media time (ms) at the latest decoded picture: maps the detectors' times. */
  private anchor: number | undefined;
  private lastFrame: number | undefined;
  private readonly intervals: number[] = [];
  private exited: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: ChannelMonitorOptions) {
    this.now = o.now ?? Date.now;
    this.conditions = new ContentConditions(o.onChange);
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
    this.spawn();
  }

  view(): ChannelMonitorView {
    let thumbnailAt: number | null = null;
    try {
      thumbnailAt = fs.statSync(this.o.thumbnailFile).mtimeMs;
    } catch {
      // none yet
    }
    const sorted = [...this.intervals].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return {
      running: this.child !== undefined,
      keyFrameInterval: median === undefined ? null : Math.round(median * 100) / 100,
      thumbnailAt,
      alerts: this.conditions.active(),
    };
  }

  alerts(): ActiveCondition[] {
    return this.conditions.active();
  }

  /** Stops ffmpeg; every raised condition ends now. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(kill);
    }
    this.conditions.stop(this.now());
  }

  private tick(): void {
    this.conditions.tick(this.now());
    // The origin is fed by another ingest now (the backup took over, or the primary is back): watch that one.
    const source = this.o.source();
    if (this.child && source && source.sessionId !== this.pulling) this.child.kill('SIGTERM');
    else if (!this.child && !this.restartTimer && source) this.spawn();
  }

  private spawn(): void {
    if (this.stopped || this.child) return;
    const source = this.o.source();
    // Nothing to watch now; the tick tries again.
    if (!source || (!source.hasVideo && !source.hasAudio)) return;
    const { log } = this.o;
    const args = monitorArgs(this.o.pullUrl(source.internalPath), this.o.thumbnailFile, source);
    const startedAt = this.now();
    const child = spawn(this.o.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.pulling = source.sessionId;
    this.anchor = undefined;
    this.lastFrame = undefined;
    try {
      if (child.pid !== undefined) os.setPriority(child.pid, NICE);
    } catch {
      // not allowed here: it runs at normal priority
    }
    log.debug({ pid: child.pid }, 'content monitor started');
    const tail: string[] = [];
    const reader = new SignalReader((s) => this.onSignal(s));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      reader.push(d);
      // ffmpeg names its input URL in errors: never keep the ingest's pull key.
      tail.push(
        ...d
          .replace(/([?&]k=)[^&\s]+/g, '$1[redacted]')
          .split('\n')
          .filter(Boolean),
      );
      tail.splice(0, Math.max(0, tail.length - 5));
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => log.warn({ err: err.message }, 'could not start the content monitor'));
      child.once('close', (code, signal) => {
        this.child = undefined;
        // A new process judges afresh: what the old one saw ends here, and is raised again if it holds.
        this.conditions.stop(this.now());
        resolve();
        if (this.stopped) return;
        if (this.now() - startedAt > HEALTHY_MS) this.attempt = 0;
        const steps = this.o.backoffMs ?? BACKOFF_MS;
        const delayMs = steps[Math.min(this.attempt++, steps.length - 1)] ?? 1000;
        log.info(
          { reason: signal ? `killed by ${signal}` : `exit code ${code}`, detail: tail.join(' | '), delayMs },
          'content monitor ended; restarting',
        );
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          this.spawn();
        }, delayMs);
        this.restartTimer.unref();
      });
    });
  }

  private onSignal(s: ContentSignal): void {
    const now = this.now();
    if (s.kind === 'frame') {
      this.anchor = now - s.t * 1000;
      if (this.lastFrame !== undefined && s.t > this.lastFrame) {
        this.intervals.push(s.t - this.lastFrame);
        if (this.intervals.length > 5) this.intervals.shift();
      }
      this.lastFrame = s.t;
      return;
    }
    // The detectors name the media time a condition began or ended: on the wall clock, never in the future.
    const at = this.anchor === undefined ? now : Math.min(now, this.anchor + s.t * 1000);
    this.conditions.signal(s.kind, s.active, at, now);
  }
}

export type { ContentCondition };

/** A condition raised or cleared on a channel. */
export type ChannelConditionChange = ConditionChange & { entryId: string };

/** The publishing point state machine, as the monitors follow it (origin/publishing-point-state.ts). */
export interface MonitoredStates {
  on(event: 'state', listener: (c: { entryId: string; state: string }) => void): unknown;
  off(event: 'state', listener: (c: { entryId: string; state: string }) => void): unknown;
}

export interface ContentMonitorsOptions {
  ffmpegPath: string;
  states: MonitoredStates;
  /** The ingest session feeding a publishing point's origin (stream 1), if any. */
  sourceOf: (entryId: string) => MonitorSource | undefined;
  pullUrl: (internalPath: string) => string;
  /** Where a publishing point's thumbnail is written (and served from). */
  thumbnailFile: (entryId: string) => string;
  log: Logger;
}

/** Every channel's monitor: started when its publishing point is `started`, stopped when it leaves it. */
export class ContentMonitors extends EventEmitter<{ change: [ChannelConditionChange] }> {
  private readonly monitors = new Map<string, ChannelMonitor>();
  /** Channels watched since start: /metrics shows their conditions (0 when not raised). */
  private readonly seen = new Set<string>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly onState = ({ entryId, state }: { entryId: string; state: string }) => {
    if (state === 'started') this.startFor(entryId);
    else void this.stopFor(entryId);
  };

  constructor(private readonly o: ContentMonitorsOptions) {
    super();
  }

  start(): void {
    this.o.states.on('state', this.onState);
  }

  async stopAll(): Promise<void> {
    this.o.states.off('state', this.onState);
    await Promise.all([...this.monitors.keys()].map((e) => this.stopFor(e)));
    await Promise.all([...this.stopping]);
  }

  /** A channel's monitor now, or undefined when it has none (not live). */
  view(entryId: string): ChannelMonitorView | undefined {
    return this.monitors.get(entryId)?.view();
  }

  /** A channel's raised conditions. */
  alerts(entryId: string): ActiveCondition[] {
    return this.monitors.get(entryId)?.alerts() ?? [];
  }

  /** A channel's raised conditions, as the control API shows them. */
  channelAlerts(entryId: string): ChannelAlertView[] {
    return this.alerts(entryId).map((a) => ({
      condition: a.condition,
      level: a.level,
      since: new Date(a.since).toISOString(),
      message: a.label,
    }));
  }

  /** A channel's monitor, as the control API shows it; undefined when the channel is not live. */
  channelMonitor(entryId: string): ContentMonitorView | undefined {
    const v = this.view(entryId);
    return (
      v && {
        running: v.running,
        keyFrameInterval: v.keyFrameInterval,
        thumbnailAt: v.thumbnailAt === null ? null : new Date(v.thumbnailAt).toISOString(),
      }
    );
  }

  /** Every channel watched since start, with its raised conditions. */
  watched(): Array<{ entryId: string; alerts: ActiveCondition[] }> {
    return [...this.seen].map((entryId) => ({ entryId, alerts: this.alerts(entryId) }));
  }

  private startFor(entryId: string): void {
    if (this.monitors.has(entryId)) return;
    let thumbnailFile: string;
    try {
      thumbnailFile = this.o.thumbnailFile(entryId);
    } catch (err) {
      this.o.log.warn(
        { entryId, err: (err as Error).message },
        'no content monitor for this publishing point',
      );
      return;
    }
    this.seen.add(entryId);
    this.monitors.set(
      entryId,
      new ChannelMonitor({
        entryId,
        ffmpegPath: this.o.ffmpegPath,
        source: () => this.o.sourceOf(entryId),
        pullUrl: this.o.pullUrl,
        thumbnailFile,
        onChange: (c) => this.emit('change', { ...c, entryId }),
        log: this.o.log.child({ entryId }),
      }),
    );
  }

  private async stopFor(entryId: string): Promise<void> {
    const m = this.monitors.get(entryId);
    if (!m) return;
    this.monitors.delete(entryId);
    const p = m.stop();
    this.stopping.add(p);
    await p;
    this.stopping.delete(p);
  }
}

/** An ingest session as the monitors need it (channels/ingest-feeds.ts). */
export interface FeedingSession {
  sessionId: string;
  internalPath?: string;
  feeding: boolean;
  request: { streamIndex: number };
  metadata: {
    width?: number;
    videocodecidstring?: string;
    audiocodecidstring?: string;
    audiodatarate?: number;
  };
}

/** The stream a channel's monitor watches: the one feeding its origin (stream 1 of a multi-bitrate ingest). */
export function monitorSource(sessions: FeedingSession[]): MonitorSource | undefined {
  const feeding = sessions.filter((s) => s.feeding && s.internalPath !== undefined);
  const s = feeding.find((f) => f.request.streamIndex === 1) ?? feeding[0];
  if (!s?.internalPath) return undefined;
  const md = s.metadata;
  const video = md.videocodecidstring !== undefined || md.width !== undefined;
  const audio = md.audiocodecidstring !== undefined || md.audiodatarate !== undefined;
  // No onMetaData: assume both (an absent one is skipped: the maps are optional).
  const unknown = !video && !audio;
  return {
    sessionId: s.sessionId,
    internalPath: s.internalPath,
    hasVideo: video || unknown,
    hasAudio: audio || unknown,
  };
}
