/** Messages between the core and the RTMP ingest child process (node-media-server). */
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
  /** Secret a loopback player (our ffmpeg) must present in its play query as `k`. */
  pullKey: string;
  /** Directory node-media-server may use for its own store. */
  workDir: string;
  limits: RtmpLimits;
}

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
  /** The child's resident memory (bytes), every few seconds: the core restarts a runaway child. */
  | { type: 'memory'; rss: number };

export type CoreToChild =
  | { type: 'authorized'; requestId: number; allow: true; internalName: string }
  | { type: 'authorized'; requestId: number; allow: false; code: string; reason: string }
  | { type: 'disconnect'; sessionId: string }
  | { type: 'shutdown' };
