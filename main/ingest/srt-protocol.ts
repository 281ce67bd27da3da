/** Messages between the core and the SRT ingest child process (libsrt through koffi). */
import type { SrtStatsView } from '../contract/contract.js';

/** What the SRT child must know of each channel before a caller arrives (the listen callback cannot wait). */
export interface SrtChannelSettings {
  /** The channel's SRT passphrase (10 to 79 characters); absent: the channel takes unencrypted SRT. */
  passphrase?: string;
  /** SRT receiver latency (SRTO_RCVLATENCY, ms). */
  latencyMs: number;
}

export interface SrtChildOptions {
  bind: string;
  srtPort: number;
  /** ffmpeg, which relays each accepted caller's MPEG-TS into the RTMP ingest (`-c copy`). */
  ffmpegPath: string;
  /** The shared library to load (default: libsrt as Debian names it). */
  library?: string;
  /** At most this many SRT callers at once (beyond: refused with "overloaded"). */
  maxSessions: number;
}

/** SRT's own statistics of one caller (srt_bistats), every 2 s: what the channel view shows. */
export type SrtStats = SrtStatsView;

/** The caller's stream id, as the child read it (see srt-stream-id.ts). */
export interface SrtCaller {
  srtId: number;
  remote: string;
  entryId: string;
  serverIndex: 0 | 1;
  streamName: string;
  form: 'kaltura' | 'plain';
  token?: string;
  /** Whether the handshake was encrypted with the channel's passphrase. */
  encrypted: boolean;
}

export type SrtChildToCore =
  | { type: 'ready'; port: number }
  | { type: 'listen-error'; message: string }
  /** A caller passed the SRT handshake: may it publish? (answered by `relay` or `close`). */
  | ({ type: 'publish' } & SrtCaller)
  /** A caller was refused before or during the SRT handshake (stream id, passphrase, capacity). */
  | { type: 'refused'; remote: string; entryId?: string; streamId: string; code: string; reason: string }
  | { type: 'stats'; srtId: number; stats: SrtStats }
  /** A caller's session is over (it hung up, its relay ended, or the core closed it). */
  | { type: 'ended'; srtId: number; reason: string }
  /** The child's resident memory (bytes), every few seconds: the core restarts a runaway child. */
  | { type: 'memory'; rss: number };

export type SrtCoreToChild =
  | { type: 'channels'; channels: Record<string, SrtChannelSettings> }
  /** Relay the caller's media to this loopback RTMP URL (it carries a single-use relay key). */
  | { type: 'relay'; srtId: number; url: string }
  | { type: 'close'; srtId: number; code: string; reason: string }
  | { type: 'shutdown' };
