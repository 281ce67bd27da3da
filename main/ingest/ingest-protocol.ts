/** Messages between the core and the RTMP ingest child process (node-media-server). */
import type { IngestHealthSnapshot } from './ingest-health.js';
import type { RtmpLimits } from './rtmp-limits.js';

/** Encoder metadata (RTMP onMetaData), as Kaltura's extraParams name it. */
export interface IngestMetadata {
  width?: number;
  height?: number;
  framerate?: number;
  videodatarate?: number;
  audiodatarate?: number;
  videocodecidstring?: string;
  audiocodecidstring?: string;
}

export interface IngestChildOptions {
  bind: string;
  rtmpPort: number;
  /** Directory node-media-server may use for its own store. */
  workDir: string;
  limits: RtmpLimits;
}

/** How long an issued pull key stays usable: ffmpeg connects within moments of being started. */
export const PULL_KEY_TTL_MS = 30_000;
/** At most this many unused pull keys are kept (the oldest is dropped). */
export const MAX_PULL_KEYS = 256;

export type ChildToCore =
  | { type: 'ready'; port: number }
  | { type: 'listen-error'; message: string }
  | {
      type: 'authorize';
      requestId: number;
      sessionId: string;
      remote: string;
      app: string;
      query: Record<string, string>;
      streamName: string;
    }
  | { type: 'published'; sessionId: string; internalPath: string; metadata: IngestMetadata }
  | { type: 'publish-failed'; sessionId: string; reason: string }
  | { type: 'unpublished'; sessionId: string; bytesIn: number }
  /** Best estimate (ms since epoch) of the wall-clock instant of the encoder's RTMP timestamp 0: min(arrival − dts). */
  | { type: 'clock'; sessionId: string; origin: number }
  | { type: 'refused'; remote: string; reason: string }
  /** A publishing session's health, measured from its packets, every 2 s. */
  | { type: 'health'; sessionId: string; health: IngestHealthSnapshot }
  /** The child's resident memory (bytes), every few seconds: the core restarts a runaway child. */
  | { type: 'memory'; rss: number };

export type CoreToChild =
  | { type: 'authorized'; requestId: number; allow: true; internalName: string }
  | { type: 'authorized'; requestId: number; allow: false; code: string; reason: string }
  | { type: 'disconnect'; sessionId: string }
  /**
   * A single-use pull key: the next loopback play of `internalPath` presenting `key` (as `k`) is our ffmpeg.
   * Used once, and forgotten after {@link PULL_KEY_TTL_MS} if never used, so a key read off a process list is
   * worth nothing.
   */
  | { type: 'pull-key'; key: string; internalPath: string }
  | { type: 'shutdown' };
