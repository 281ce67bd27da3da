/**
 * Publishing point options, as Unified Streaming writes them in the SMIL head (`<meta name content>`).
 * Unknown options are kept verbatim and returned on read.
 */
export type PublishingPointOptions = Record<string, string>;

/** The options a new publishing point gets, as in Unified Streaming's default server manifest. */
export const DEFAULT_PP_OPTIONS: Readonly<PublishingPointOptions> = {
  lookahead_fragments: '2',
  dvr_window_length: '30',
  archive_segment_length: '0',
  archiving: 'false',
  restart_on_encoder_reconnect: 'true',
  fragment_duration: '2',
};

export function numberOption(o: PublishingPointOptions, name: string, fallback: number): number {
  const v = o[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export function booleanOption(o: PublishingPointOptions, name: string, fallback: boolean): boolean {
  const v = o[name]?.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return fallback;
}

/** The options the origin acts on, resolved with their defaults. */
export interface ResolvedPpOptions {
  dvrWindow: number;
  archiving: boolean;
  /** Seconds of archive kept; 0 = unlimited. */
  archiveLength: number;
  fragmentDuration: number;
  restartOnEncoderReconnect: boolean;
  /**
   * `hls.low_latency`: the transcoder writes part-sized fragments (key frames stay every `fragment_duration`),
   * HLS and DASH segments are groups of them, and live media playlists are low-latency HLS (parts, preload
   * hints, blocking reloads, delta updates). Takes effect for transcoders started afterwards (the next publish).
   */
  hlsLowLatency: boolean;
  /** `hls.part_duration`: seconds per part (default 0.5), within 0.1..2 and at most half of `fragment_duration`. */
  hlsPartDuration: number;
}

export function resolvePpOptions(o: PublishingPointOptions): ResolvedPpOptions {
  const fragmentDuration = Math.min(20, Math.max(0.5, numberOption(o, 'fragment_duration', 2)));
  return {
    dvrWindow: Math.max(1, numberOption(o, 'dvr_window_length', 30)),
    archiving: booleanOption(o, 'archiving', false),
    archiveLength: Math.max(0, numberOption(o, 'archive_length', 0)),
    fragmentDuration,
    restartOnEncoderReconnect: booleanOption(o, 'restart_on_encoder_reconnect', true),
    hlsLowLatency: booleanOption(o, 'hls.low_latency', false),
    // At least two parts per segment, so a part is never a whole segment.
    hlsPartDuration: Math.min(
      2,
      fragmentDuration / 2,
      Math.max(0.1, numberOption(o, 'hls.part_duration', 0.5)),
    ),
  };
}
