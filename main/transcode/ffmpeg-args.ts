/**
 * Transcode planning: a conversion profile plus what the ingest carries -> one ffmpeg command line.
 *
 * ffmpeg pulls the ingest once and writes one output per track: track k goes to `pipe:<firstFd + k>` as
 * fragmented MP4 (ftyp+moov first, then moof+mdat pairs), each output holding exactly one stream. Video
 * fragments start at key frames; key frames of all transcoded renditions are forced at the same instants
 * (the source's key frames, or a fixed interval), so fragments line up across the ladder.
 *
 * Timeline: every output keeps ffmpeg's input timeline (input start = 0) shifted by OUTPUT_TS_OFFSET
 * seconds, written as absolute `tfdt` decode times (no per-output re-zeroing, no edit lists), so the same
 * instant has the same timestamp in every track, passthrough or transcoded.
 *
 * Nothing from the profile reaches ffmpeg as a string: codecs, profiles and fit modes are mapped to known
 * values, sizes and bitrates are numbers, and `Video/Parameters` (encoder tuning) are not used.
 */
import type { ConversionProfile, EncodeSpec, FrameSize } from './conversion-profile.js';

/** What the ingest carries (from the RTMP metadata or a probe). Codec names are ffprobe's, lower case. */
export interface SourceInfo {
  hasVideo: boolean;
  hasAudio: boolean;
  width?: number;
  height?: number;
  frameRate?: number;
  videoCodec?: string;
  audioCodec?: string;
}

/** One output of the ffmpeg process: one stream, one pipe. */
export interface PlannedTrack {
  /** File-name safe `[a-z0-9_]+`, unique: `video_<encode>` / `audio_<encode>`. */
  trackName: string;
  kind: 'video' | 'audio';
  /** The encode this track came from (the first one, for a deduplicated audio track). */
  encode: string;
  passthrough: boolean;
  codec: 'h264' | 'aac';
  /** bits per second, when encoded */
  bitrate?: number;
  /** Output size when known (even numbers). */
  width?: number;
  height?: number;
  /** Video tracks only: the audio track paired with this encode (after deduplication), if any. */
  audioTrack?: string;
}

export interface TranscodePlan {
  /** ffmpeg arguments (without the binary). stdout carries `-progress` key=value lines. */
  args: string[];
  /** Track k is written to file descriptor `firstFd + k`. */
  tracks: PlannedTrack[];
  dropped: { encode: string; reason: string }[];
  warnings: string[];
}

export interface PlanOptions {
  inputUrl: string;
  /** Target fragment duration in seconds, e.g. 2: the key frame interval when the ladder sets its own. */
  fragmentDuration: number;
  /**
   * Low-latency HLS: fragments (parts) of this many seconds, e.g. 0.5, cut at key frames too; key frames stay
   * every `fragmentDuration`, so segments are whole groups of parts. Without it fragments are whole GOPs.
   */
  partDuration?: number;
  /** File descriptor of the first track's pipe; default 3. */
  firstFd?: number;
  /** x264 preset; default 'veryfast'. */
  preset?: string;
}

/** Seconds added to every output timestamp so that decode times are never negative (B-frame sources). */
export const OUTPUT_TS_OFFSET = 10;

const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
];
const H264_PROFILES = ['baseline', 'main', 'high'];
const DEFAULT_AUDIO_BITRATE = 128_000;

/** Global options: quiet logs, machine-readable progress on stdout once a second. */
export const GLOBAL_ARGS = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats'];
export const PROGRESS_ARGS = ['-progress', 'pipe:1', '-stats_period', '1'];
/**
 * Live RTMP pull: give up after 5 s without data; probe 1 s / 500 kB so the first fragment comes quickly;
 * keep the encoder's timestamps (`-copyts`): output time = RTMP time + OUTPUT_TS_OFFSET, so the origin can tie
 * the timeline to the moment the publish started, and a restarted ffmpeg continues the same timeline.
 */
const INPUT_ARGS = [
  '-copyts',
  '-rw_timeout',
  '5000000',
  '-analyzeduration',
  '1000000',
  '-probesize',
  '500000',
];

/**
 * Fragmented MP4 to a non-seekable pipe: empty moov first, `tfdt` = the packet's real decode time
 * (frag_discont with no edit list), no re-zeroing per output, no mfra trailer, packets flushed at once.
 */
export const MOVFLAGS = '+empty_moov+default_base_moof+skip_trailer+frag_discont';
export const MP4_ARGS = [
  '-f',
  'mp4',
  '-use_editlist',
  '0',
  '-avoid_negative_ts',
  'disabled',
  '-output_ts_offset',
  String(OUTPUT_TS_OFFSET),
  '-flush_packets',
  '1',
];

interface VideoChoice {
  passthrough: boolean;
  bitrate?: number;
  profile?: string;
  filter?: string;
  width?: number;
  height?: number;
}

interface AudioChoice {
  passthrough: boolean;
  bitrate?: number;
}

/** Round to the nearest even number (as ffmpeg's `scale=-2` does), at least 2. */
const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);
/** Round down to an even number, at least 2. */
const evenDown = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);

/** A sensible H.264 bitrate when the profile gives none. */
function defaultVideoBitrate(height?: number): number {
  if (!height) return 1_500_000;
  if (height >= 1080) return 5_000_000;
  if (height >= 720) return 2_500_000;
  if (height >= 480) return 1_200_000;
  if (height >= 360) return 800_000;
  return 400_000;
}

/** Output size and scale filter for a FrameSize; sizes are known when the source size is. */
function scaleFor(
  frameSize: FrameSize | undefined,
  source: SourceInfo,
  encode: string,
  warnings: string[],
): Pick<VideoChoice, 'filter' | 'width' | 'height'> {
  const { width: sw, height: sh } = source;
  const W = frameSize?.width ? even(frameSize.width) : undefined;
  const H = frameSize?.height ? even(frameSize.height) : undefined;
  let mode = frameSize?.fitMode ?? 'match-source';
  const needsBoth = ['fit', 'crop', 'stretch', 'letterbox'].includes(mode);
  if ((needsBoth && !(W && H)) || (mode === 'fit-height' && !H) || (mode === 'fit-width' && !W)) {
    const fallback = H ? 'fit-height' : W ? 'fit-width' : 'match-source';
    warnings.push(`encode "${encode}": FitMode ${mode} without the sizes it needs; using ${fallback}`);
    mode = fallback;
  }
  let out: Pick<VideoChoice, 'filter' | 'width' | 'height'>;
  if (mode === 'fit-height' && H) {
    out = { filter: `scale=-2:${H}`, height: H, ...(sw && sh ? { width: even((sw * H) / sh) } : {}) };
  } else if (mode === 'fit-width' && W) {
    out = { filter: `scale=${W}:-2`, width: W, ...(sw && sh ? { height: even((W * sh) / sw) } : {}) };
  } else if (mode === 'stretch' && W && H) {
    out = { filter: `scale=${W}:${H}`, width: W, height: H };
  } else if (mode === 'fit' && W && H) {
    const filter = `scale=${W}:${H}:force_original_aspect_ratio=decrease:force_divisible_by=2`;
    out =
      sw && sh
        ? {
            filter,
            width: evenDown(Math.min(W, Math.round((H * sw) / sh))),
            height: evenDown(Math.min(H, Math.round((W * sh) / sw))),
          }
        : { filter };
  } else if (mode === 'letterbox' && W && H) {
    const filter = `scale=${W}:${H}:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2`;
    out = { filter, width: W, height: H };
  } else if (mode === 'crop' && W && H) {
    const filter = `scale=${W}:${H}:force_original_aspect_ratio=increase:force_divisible_by=2,crop=${W}:${H}`;
    out = { filter, width: W, height: H };
  } else {
    // match-source: H.264 4:2:0 needs even sizes.
    out =
      sw && sh
        ? { width: evenDown(sw), height: evenDown(sh) }
        : { filter: 'scale=trunc(iw/2)*2:trunc(ih/2)*2' };
  }
  // A scale to exactly the source size is a no-op: skip the filter.
  if (out.filter && out.width === sw && out.height === sh) delete out.filter;
  else if (!out.filter && (out.width !== sw || out.height !== sh))
    out.filter = 'scale=trunc(iw/2)*2:trunc(ih/2)*2';
  return out;
}

/** How this encode's video comes out, `null` when the encode must be dropped (reason pushed). */
function chooseVideo(
  e: EncodeSpec,
  source: SourceInfo,
  warnings: string[],
  dropped: TranscodePlan['dropped'],
): VideoChoice | null | undefined {
  if (e.video.codec === 'Disable' || !source.hasVideo) return undefined;
  if (e.video.codec === 'PassThru') {
    if (source.videoCodec === 'h264') {
      return {
        passthrough: true,
        ...(source.width ? { width: source.width } : {}),
        ...(source.height ? { height: source.height } : {}),
      };
    }
    const size = scaleFor(undefined, source, e.name, warnings);
    const bitrate = defaultVideoBitrate(size.height);
    warnings.push(
      `encode "${e.name}": source video is ${source.videoCodec ?? 'of unknown codec'}, not h264; encoding it to H.264 at source size, ${bitrate} bps`,
    );
    return { passthrough: false, bitrate, profile: 'main', ...size };
  }
  const size = scaleFor(e.video.frameSize, source, e.name, warnings);
  if (source.height && size.height && size.height > source.height) {
    dropped.push({
      encode: e.name,
      reason: `output height ${size.height} is greater than the source height ${source.height}`,
    });
    return null;
  }
  let bitrate = e.video.bitrate;
  if (!bitrate) {
    bitrate = defaultVideoBitrate(size.height);
    warnings.push(`encode "${e.name}": no Video/Bitrate; using ${bitrate} bps`);
  }
  let profile = e.video.profile?.toLowerCase() ?? 'main';
  if (!H264_PROFILES.includes(profile)) {
    warnings.push(`encode "${e.name}": H.264 profile "${e.video.profile}" not supported; using main`);
    profile = 'main';
  }
  return { passthrough: false, bitrate, profile, ...size };
}

/** How this encode's audio comes out, if it has any. */
function chooseAudio(e: EncodeSpec, source: SourceInfo, warnings: string[]): AudioChoice | undefined {
  if (e.audio.codec === 'Disable' || !source.hasAudio) return undefined;
  if (e.audio.codec === 'PassThru') {
    if (source.audioCodec === 'aac') return { passthrough: true };
    warnings.push(
      `encode "${e.name}": source audio is ${source.audioCodec ?? 'of unknown codec'}, not aac; encoding it to AAC ${DEFAULT_AUDIO_BITRATE} bps`,
    );
    return { passthrough: false, bitrate: DEFAULT_AUDIO_BITRATE };
  }
  return { passthrough: false, bitrate: e.audio.bitrate ?? DEFAULT_AUDIO_BITRATE };
}

/** Lower-case, `[a-z0-9_]` only. */
function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'encode'
  );
}

/** The encodes' tracks: videos first (encode order), then the deduplicated audios. */
function buildTracks(
  encodes: EncodeSpec[],
  source: SourceInfo,
  warnings: string[],
  dropped: TranscodePlan['dropped'],
): { tracks: PlannedTrack[]; encoding: Map<PlannedTrack, { encode: EncodeSpec; video: VideoChoice }> } {
  const used = new Set<string>();
  const unique = (kind: string, encode: string): string => {
    const base = `${kind}_${slug(encode)}`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
  const videos: PlannedTrack[] = [];
  const audios = new Map<string, PlannedTrack>(); // 'copy' | 'aac:<bps>' -> track
  const encoding = new Map<PlannedTrack, { encode: EncodeSpec; video: VideoChoice }>();
  for (const e of encodes) {
    const video = chooseVideo(e, source, warnings, dropped);
    if (video === null) continue;
    const audio = chooseAudio(e, source, warnings);
    if (!video && !audio) {
      const why = [
        e.video.codec === 'Disable' ? 'video disabled' : 'source has no video',
        e.audio.codec === 'Disable' ? 'audio disabled' : 'source has no audio',
      ];
      dropped.push({ encode: e.name, reason: `no track: ${why.join(', ')}` });
      continue;
    }
    let audioTrack: PlannedTrack | undefined;
    if (audio) {
      const key = audio.passthrough ? 'copy' : `aac:${audio.bitrate}`;
      audioTrack = audios.get(key);
      if (!audioTrack) {
        audioTrack = {
          trackName: unique('audio', e.name),
          kind: 'audio',
          encode: e.name,
          passthrough: audio.passthrough,
          codec: 'aac',
          ...(audio.bitrate ? { bitrate: audio.bitrate } : {}),
        };
        audios.set(key, audioTrack);
      }
    }
    if (video) {
      const { passthrough, bitrate, width, height } = video;
      const track: PlannedTrack = {
        trackName: unique('video', e.name),
        kind: 'video',
        encode: e.name,
        passthrough,
        codec: 'h264',
        ...(bitrate ? { bitrate } : {}),
        ...(width ? { width } : {}),
        ...(height ? { height } : {}),
        ...(audioTrack ? { audioTrack: audioTrack.trackName } : {}),
      };
      videos.push(track);
      if (!passthrough) encoding.set(track, { encode: e, video });
    }
  }
  return { tracks: [...videos, ...audios.values()], encoding };
}

/** `-force_key_frames` for every transcoded rendition: one rule for the ladder, so key frames align. */
function keyFrameRule(
  encodes: EncodeSpec[],
  source: SourceInfo,
  opts: PlanOptions,
  warnings: string[],
): string {
  const rules = encodes.map((e) => e.video.keyFrameInterval).filter((k) => k !== undefined);
  const first = rules[0];
  const differs = rules.some(
    (k) => k.followSource !== first?.followSource || (!k.followSource && k.interval !== first.interval),
  );
  if (differs) warnings.push('encodes differ in KeyFrameInterval; the first one applies to the whole ladder');
  if (!first || first.followSource) return 'source';
  const seconds =
    first.interval && source.frameRate && source.frameRate > 0
      ? first.interval / source.frameRate
      : opts.fragmentDuration;
  return `expr:gte(t,n_forced*${Number(seconds.toFixed(6))})`;
}

function checkOptions(opts: PlanOptions): { firstFd: number; preset: string } {
  const firstFd = opts.firstFd ?? 3;
  const preset = opts.preset ?? 'veryfast';
  if (typeof opts.inputUrl !== 'string' || opts.inputUrl === '') throw new TypeError('inputUrl is required');
  if (!Number.isFinite(opts.fragmentDuration) || opts.fragmentDuration <= 0) {
    throw new RangeError(
      `fragmentDuration must be a positive number of seconds, got ${opts.fragmentDuration}`,
    );
  }
  if (
    opts.partDuration !== undefined &&
    !(
      Number.isFinite(opts.partDuration) &&
      opts.partDuration > 0 &&
      opts.partDuration < opts.fragmentDuration
    )
  ) {
    throw new RangeError(
      `partDuration must be a positive number of seconds below fragmentDuration, got ${opts.partDuration}`,
    );
  }
  if (!Number.isInteger(firstFd) || firstFd < 3) {
    throw new RangeError(`firstFd must be an integer >= 3, got ${firstFd}`);
  }
  if (!X264_PRESETS.includes(preset)) throw new RangeError(`unknown x264 preset "${preset}"`);
  return { firstFd, preset };
}

/** Plan the ffmpeg process for one ingest: which tracks, which pipes, which arguments. */
export function planTranscode(
  profile: ConversionProfile,
  source: SourceInfo,
  opts: PlanOptions,
): TranscodePlan {
  const { firstFd, preset } = checkOptions(opts);
  const warnings: string[] = [];
  const dropped: TranscodePlan['dropped'] = [];
  const enabled = profile.encodes.filter((e) => {
    if (!e.enabled) dropped.push({ encode: e.name, reason: 'disabled (Enable=false)' });
    return e.enabled;
  });
  let { tracks, encoding } = buildTracks(enabled, source, warnings, dropped);
  if (tracks.length === 0) {
    if (!source.hasVideo && !source.hasAudio) throw new Error('the source has neither video nor audio');
    warnings.push('no usable track in the conversion profile; passing the source through');
    const passthru: EncodeSpec = {
      name: 'source',
      enabled: true,
      video: { codec: 'PassThru' },
      audio: { codec: 'PassThru' },
      parameters: {},
    };
    ({ tracks, encoding } = buildTracks([passthru], source, warnings, []));
  }

  const encoded = [...encoding.values()].map((x) => x.encode);
  const forceKeyFrames = encoded.length > 0 ? keyFrameRule(encoded, source, opts, warnings) : 'source';
  if (forceKeyFrames !== 'source' && tracks.some((t) => t.kind === 'video' && t.passthrough)) {
    warnings.push(
      'key frames follow a fixed interval, not the source: they may not align with passthrough video',
    );
  }
  const usec = (seconds: number): string => String(Math.round(seconds * 1_000_000));
  // Video: cut at the first key frame at least 90% of the target after the fragment's start (a key frame
  // right at the boundary, give or take timestamp jitter, starts the next fragment). Audio: cut by duration.
  // Low latency: parts, cut at the first frame a part's duration after its start and at every key frame.
  const videoFragments =
    opts.partDuration !== undefined
      ? ['-movflags', `+frag_keyframe${MOVFLAGS}`, '-frag_duration', usec(opts.partDuration)]
      : ['-movflags', `+frag_keyframe${MOVFLAGS}`, '-min_frag_duration', usec(opts.fragmentDuration * 0.9)];
  const audioFragments = [
    '-movflags',
    MOVFLAGS,
    '-frag_duration',
    usec(opts.partDuration ?? opts.fragmentDuration),
  ];

  const args = [...GLOBAL_ARGS, ...PROGRESS_ARGS, ...INPUT_ARGS, '-i', opts.inputUrl];
  tracks.forEach((track, k) => {
    const v = encoding.get(track)?.video;
    if (track.kind === 'video') {
      args.push('-map', '0:v:0');
      if (!v) {
        args.push('-c:v', 'copy');
      } else {
        const bitrate = String(v.bitrate);
        if (v.filter) args.push('-vf', v.filter);
        args.push(
          ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', preset, '-tune', 'zerolatency'],
          ...['-profile:v', v.profile ?? 'main'],
          ...['-b:v', bitrate, '-maxrate', bitrate, '-bufsize', String(2 * (v.bitrate ?? 0))],
          // Key frames only where forced: no scene cuts, no x264 keyint of its own.
          ...['-g', '100000', '-sc_threshold', '0', '-force_key_frames', forceKeyFrames],
          // Keep the source's frame timestamps (no frame rate conversion), at the input's time base.
          ...['-fps_mode', 'passthrough', '-enc_time_base', '-1'],
        );
      }
      args.push(...MP4_ARGS, ...videoFragments);
    } else {
      args.push('-map', '0:a:0');
      if (track.passthrough) args.push('-c:a', 'copy');
      else args.push('-c:a', 'aac', '-b:a', String(track.bitrate));
      args.push(...MP4_ARGS, ...audioFragments);
    }
    args.push(`pipe:${firstFd + k}`);
  });
  return { args, tracks, dropped, warnings };
}
