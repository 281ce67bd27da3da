/**
 * Bounds on what one RTMP peer can make the ingest child hold, before and after it is authenticated. A chunk
 * header may declare a 16 MiB message in a few bytes; node-media-server 4.4.3 allocates it at once, for any
 * number of chunk streams, with no limit on connections or time. These limits are what the child enforces.
 */
export interface RtmpLimits {
  /** Largest message before the publish is accepted (connect, createStream, publish commands). */
  maxCommandMessage: number;
  /** Largest message of an accepted publish (a key frame of a high-bitrate stream fits easily). */
  maxMediaMessage: number;
  /** Chunk streams one connection may open (encoders use a handful). */
  maxChunkStreams: number;
  /** Message buffers one connection may hold in all, grown only as bytes arrive. */
  maxConnectionBuffer: number;
  /** From connect to a publish command (or our own ffmpeg's play). */
  handshakeTimeoutMs: number;
  /** A connection silent this long is closed. */
  idleTimeoutMs: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  /** The core restarts the child when its resident memory exceeds this. */
  maxChildRss: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_RTMP_LIMITS: RtmpLimits = {
  maxCommandMessage: 64 * 1024,
  maxMediaMessage: 16 * MiB,
  maxChunkStreams: 32,
  maxConnectionBuffer: 32 * MiB,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxConnectionsPerAddress: 32,
  maxConnections: 256,
  maxChildRss: 1536 * MiB,
};
