/**
 * The control API contract: request bodies (validated with zod), responses and error codes.
 * The HTTP transport (admin listener) and, later, IPC speak exactly this.
 */
import { z } from 'zod';
import type { IngestState } from '../origin/segment-index.js';

export const createChannelBody = z
  .object({
    name: z.string().trim().min(1, 'name must not be empty').max(200, 'name is longer than 200 characters'),
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
  })
  .strict()
  .refine(
    (b) => b.name !== undefined || b.access !== undefined,
    'nothing to change: give name and/or access',
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
  at: string;
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
}

export interface ChannelView {
  entryId: string;
  partnerId: number;
  name: string;
  token: string;
  createdAt: string;
  access: 'open' | 'secure';
  /** OBS "server" and the full URL for ffmpeg-style encoders. */
  broadcastUrl: string;
  backupBroadcastUrl: string;
  streamName: string;
  rtmp: { server: string; backupServer: string; streamKey: string };
  publishingPoint: { name: string; path: string; state: IngestState };
  state: IngestState;
  playback: { hls: string; dash: string };
  ingests: IngestView[];
  statistics: RenditionStats[];
}

export interface ApiError {
  error: { code: string; message: string };
}

export const ERROR_CODES = {
  UNAUTHORIZED: 401,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
} as const;
