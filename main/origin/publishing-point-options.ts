/**
 * Publishing point options, as Unified Streaming writes them in the SMIL head (`<meta name content>`).
 * Unknown options are kept verbatim and returned on read.
 *
 * Every option the origin acts on is defined once in {@link PP_OPTION_SPECS}: name, type, default, range and
 * doc line. {@link resolvePpOptions} parses a record into {@link ResolvedPpOptions} from those specs (once per
 * record), and the README's table is rendered from them (`publishing-point-options-table.ts`; a test keeps the
 * README in step).
 */
export type PublishingPointOptions = Record<string, string>;

/** A default computed from other options (or left to the renderer) when the option is unset. */
export interface DerivedDefault {
  /** How it is derived, as the README shows it. */
  derived: string;
}

interface BaseSpec {
  /** The option's name in the SMIL (`<meta name>`). */
  name: string;
  doc: string;
  /** Said after the default in the README (e.g. where a channel's automatic publishing point takes it from). */
  defaultNote?: string;
}

export interface NumberOptionSpec extends BaseSpec {
  type: 'number';
  default: number | DerivedDefault;
  min?: number;
  max?: number;
  integer?: boolean;
  /**
   * What a value outside min..max becomes: clamped into the range (so by default), or the default. Not an integer
   * (when one is asked for): the default.
   */
  outOfRange?: 'clamp' | 'default';
  /**
   * An empty value: unset (the default), or 0 as JavaScript's `Number('')` reads it (how the MPD options and
   * `lookahead_fragments` have always been read).
   */
  empty?: 'default' | 'zero';
  /** At most this share of the resolved `fragment_duration` (applied after min..max). */
  maxShareOfFragment?: number;
}

export interface BooleanOptionSpec extends BaseSpec {
  type: 'boolean';
  default: boolean;
}

export interface EnumOptionSpec<V extends string = string> extends BaseSpec {
  type: 'enum';
  /** Allowed values, matched exactly; anything else is the default. */
  values: readonly V[];
  default: V;
}

export type PpOptionSpec = NumberOptionSpec | BooleanOptionSpec | EnumOptionSpec;

/** The options the origin acts on, resolved with their defaults. */
export interface ResolvedPpOptions {
  /** `dvr_window_length`: seconds the live manifests offer. */
  dvrWindow: number;
  archiving: boolean;
  /** Seconds of archive kept; 0 = unlimited. */
  archiveLength: number;
  /** `archive_segment_length`: seconds per downloadable archive segment; 0 (or less) = one segment. */
  archiveSegmentLength: number;
  fragmentDuration: number;
  restartOnEncoderReconnect: boolean;
  /** `lookahead_fragments`: players start this many fragments (+1) behind the newest. */
  lookaheadFragments: number;
  /** `hls.minimum_fragment_length`: seconds (0 = fragments as they are). */
  hlsMinimumFragmentLength: number;
  /** `mpd.minimum_fragment_length`: seconds (0 = fragments as they are). */
  mpdMinimumFragmentLength: number;
  /**
   * `hls.low_latency`: the transcoder writes part-sized fragments (key frames stay every `fragment_duration`),
   * HLS and DASH segments are groups of them, and live media playlists are low-latency HLS (parts, preload
   * hints, blocking reloads, delta updates). Takes effect for transcoders started afterwards (the next publish).
   */
  hlsLowLatency: boolean;
  /** `hls.part_duration`: seconds per part (default 0.5), within 0.1..2 and at most half of `fragment_duration`. */
  hlsPartDuration: number;
  mpdSegmentTemplate: 'time' | 'number_timeline';
  /** `mpd.min_buffer_time`, seconds; undefined when unset (the MPD renderer derives it). */
  mpdMinBufferTime: number | undefined;
  /** `mpd.suggested_presentation_delay`, seconds; undefined when unset (derived from `lookahead_fragments`). */
  mpdSuggestedPresentationDelay: number | undefined;
}

/**
 * Every option the origin acts on, keyed by its field in {@link ResolvedPpOptions} (so none can be missing),
 * in the README's order.
 */
const SPECS = {
  dvrWindow: {
    name: 'dvr_window_length',
    type: 'number',
    default: 30,
    defaultNote: '`--dvr-window` for channels',
    min: 1,
    outOfRange: 'clamp',
    doc: 'seconds the live manifests offer',
  },
  archiving: {
    name: 'archiving',
    type: 'boolean',
    default: false,
    doc: 'keep what leaves the DVR window; when false it is deleted',
  },
  archiveLength: {
    name: 'archive_length',
    type: 'number',
    default: 0,
    defaultNote: 'all',
    min: 0,
    outOfRange: 'clamp',
    doc: 'seconds of archive kept; older fragments are deleted automatically',
  },
  archiveSegmentLength: {
    name: 'archive_segment_length',
    type: 'number',
    default: 0,
    defaultNote: 'one',
    doc: 'the archive as downloadable MP4 segments of this many seconds (0 or less: one segment; at least 1, and stretched so the archive is never more than 2 000 segments)',
  },
  restartOnEncoderReconnect: {
    name: 'restart_on_encoder_reconnect',
    type: 'boolean',
    default: true,
    doc:
      'a returning encoder continues the presentation (the gap is a second `/archive` range); otherwise a ' +
      'stopped publishing point refuses ingest (`STREAM_CLOSED`) until the channel is restarted',
  },
  lookaheadFragments: {
    name: 'lookahead_fragments',
    type: 'number',
    default: 2,
    min: 0,
    integer: true,
    outOfRange: 'default',
    empty: 'zero',
    doc:
      'players start this many fragments (+1) behind the newest (HLS `HOLD-BACK`, DASH ' +
      '`suggestedPresentationDelay`; at least 3 fragments)',
  },
  fragmentDuration: {
    name: 'fragment_duration',
    type: 'number',
    default: 2,
    defaultNote: '`--fragment-duration` for channels',
    min: 0.5,
    max: 20,
    outOfRange: 'clamp',
    doc: 'seconds per fragment asked of the transcoder',
  },
  hlsMinimumFragmentLength: {
    name: 'hls.minimum_fragment_length',
    type: 'number',
    default: 0,
    defaultNote: 'fragments as they are',
    doc:
      'HLS segments combine fragments to at least this many seconds (stable time buckets); ' +
      'no effect unless longer than `fragment_duration`',
  },
  mpdMinimumFragmentLength: {
    name: 'mpd.minimum_fragment_length',
    type: 'number',
    default: 0,
    defaultNote: 'fragments as they are',
    doc:
      'DASH segments combine fragments to at least this many seconds (stable time buckets); ' +
      'no effect unless longer than `fragment_duration`',
  },
  hlsLowLatency: {
    name: 'hls.low_latency',
    type: 'boolean',
    default: false,
    doc:
      'low-latency HLS: partial segments, blocking playlist reloads, preload hints, delta updates, rendition ' +
      'reports (takes effect at the next publish; see "Design")',
  },
  hlsPartDuration: {
    name: 'hls.part_duration',
    type: 'number',
    default: 0.5,
    min: 0.1,
    max: 2,
    outOfRange: 'clamp',
    maxShareOfFragment: 0.5,
    doc: 'seconds per part with `hls.low_latency` (at least two parts per segment)',
  },
  mpdSegmentTemplate: {
    name: 'mpd.segment_template',
    type: 'enum',
    values: ['time', 'number_timeline'],
    default: 'time',
    doc: '`number_timeline` for `$Number$` templates, `time` for `$Time$`',
  },
  mpdMinBufferTime: {
    name: 'mpd.min_buffer_time',
    type: 'number',
    default: { derived: '2 × `fragment_duration`' },
    empty: 'zero',
    doc: "seconds, the MPD's `minBufferTime`",
  },
  mpdSuggestedPresentationDelay: {
    name: 'mpd.suggested_presentation_delay',
    type: 'number',
    default: { derived: 'max(3, `lookahead_fragments` + 1) × `fragment_duration`' },
    empty: 'zero',
    doc: "seconds, the live MPD's `suggestedPresentationDelay` (plus `?time_shift`)",
  },
} as const satisfies { [K in keyof ResolvedPpOptions]: PpOptionSpec };

/** One entry of {@link PP_OPTION_SPECS}: a spec and the field of {@link ResolvedPpOptions} it fills. */
export type PpOptionSpecEntry = PpOptionSpec & { key: keyof ResolvedPpOptions };

/** Every publishing point option the origin acts on, defined once; the README's table is rendered from it. */
export const PP_OPTION_SPECS: readonly PpOptionSpecEntry[] = Object.entries(SPECS).map(
  ([key, spec]) => ({ key: key as keyof ResolvedPpOptions, ...spec }) as PpOptionSpecEntry,
);

/** The spec of an option by name; undefined for options the origin does not act on (kept verbatim). */
export function ppOptionSpec(name: string): PpOptionSpecEntry | undefined {
  return PP_OPTION_SPECS.find((s) => s.name === name);
}

/** The options a new publishing point gets, as in Unified Streaming's default server manifest (values from the specs). */
export const DEFAULT_PP_OPTIONS: Readonly<PublishingPointOptions> = Object.fromEntries(
  [
    SPECS.lookaheadFragments,
    SPECS.dvrWindow,
    SPECS.archiveSegmentLength,
    SPECS.archiving,
    SPECS.restartOnEncoderReconnect,
    SPECS.fragmentDuration,
  ].map((s) => [s.name, String(s.default)]),
);

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

type NumberResult<S extends NumberOptionSpec> = S['default'] extends number ? number : number | undefined;

/** A number option by its spec: unset, empty (unless read as 0) or not a number is the default. */
function readNumber<S extends NumberOptionSpec>(
  o: PublishingPointOptions,
  s: S,
  fragmentDuration?: number,
): NumberResult<S> {
  const fallback = typeof s.default === 'number' ? s.default : undefined;
  const raw = o[s.name];
  let n: number | undefined;
  if (raw !== undefined) {
    const parsed = raw.trim() === '' ? (s.empty === 'zero' ? 0 : NaN) : Number(raw);
    if (Number.isFinite(parsed)) n = parsed;
  }
  if (n !== undefined) {
    const min = s.min ?? -Infinity;
    const max = s.max ?? Infinity;
    if ((s.integer && !Number.isInteger(n)) || ((n < min || n > max) && s.outOfRange === 'default'))
      n = undefined;
    else if (s.outOfRange !== 'default') n = Math.min(max, Math.max(min, n));
  }
  let value = n ?? fallback;
  if (value !== undefined && s.maxShareOfFragment !== undefined && fragmentDuration !== undefined)
    value = Math.min(value, fragmentDuration * s.maxShareOfFragment);
  return value as NumberResult<S>;
}

function readBoolean(o: PublishingPointOptions, s: BooleanOptionSpec): boolean {
  return booleanOption(o, s.name, s.default);
}

function readEnum<V extends string>(o: PublishingPointOptions, s: EnumOptionSpec<V>): V {
  const v = o[s.name];
  return (s.values as readonly string[]).includes(v as string) ? (v as V) : s.default;
}

function parse(o: PublishingPointOptions): ResolvedPpOptions {
  const fragmentDuration = readNumber(o, SPECS.fragmentDuration);
  return {
    dvrWindow: readNumber(o, SPECS.dvrWindow),
    archiving: readBoolean(o, SPECS.archiving),
    archiveLength: readNumber(o, SPECS.archiveLength),
    archiveSegmentLength: readNumber(o, SPECS.archiveSegmentLength),
    fragmentDuration,
    restartOnEncoderReconnect: readBoolean(o, SPECS.restartOnEncoderReconnect),
    lookaheadFragments: readNumber(o, SPECS.lookaheadFragments),
    hlsMinimumFragmentLength: readNumber(o, SPECS.hlsMinimumFragmentLength),
    mpdMinimumFragmentLength: readNumber(o, SPECS.mpdMinimumFragmentLength),
    hlsLowLatency: readBoolean(o, SPECS.hlsLowLatency),
    // At least two parts per segment, so a part is never a whole segment.
    hlsPartDuration: readNumber(o, SPECS.hlsPartDuration, fragmentDuration),
    mpdSegmentTemplate: readEnum(o, SPECS.mpdSegmentTemplate),
    mpdMinBufferTime: readNumber(o, SPECS.mpdMinBufferTime),
    mpdSuggestedPresentationDelay: readNumber(o, SPECS.mpdSuggestedPresentationDelay),
  };
}

/** Resolved options per record: a record is parsed once (records are never changed in place). */
const resolved = new WeakMap<PublishingPointOptions, Readonly<ResolvedPpOptions>>();

/** The options the origin acts on, typed and with their defaults; parsed once per options record. */
export function resolvePpOptions(o: PublishingPointOptions): Readonly<ResolvedPpOptions> {
  let r = resolved.get(o);
  if (!r) {
    r = Object.freeze(parse(o));
    resolved.set(o, r);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// Recording: the friendly face of `archiving`, `archive_length` and `dvr_window_length`.

/** The options "Record this event" sets; changing only these (to record more) needs no purge on an idle point. */
export const RECORDING_OPTION_NAMES: readonly string[] = [
  SPECS.archiving.name,
  SPECS.archiveLength.name,
  SPECS.archiveSegmentLength.name,
  SPECS.dvrWindow.name,
];

/** Recording as staff set it: on or off, the DVR window in minutes, and how many days recordings are kept (0: all). */
export interface RecordingChoice {
  record: boolean;
  dvrWindowMinutes?: number;
  keepDays?: number;
}

/** The options with a recording choice applied (other options untouched; unset parts keep their values). */
export function withRecording(o: PublishingPointOptions, choice: RecordingChoice): PublishingPointOptions {
  const out: PublishingPointOptions = { ...o, [SPECS.archiving.name]: String(choice.record) };
  if (choice.dvrWindowMinutes !== undefined)
    out[SPECS.dvrWindow.name] = String(Math.max(1, Math.round(choice.dvrWindowMinutes * 60)));
  if (choice.keepDays !== undefined)
    out[SPECS.archiveLength.name] = String(Math.max(0, Math.round(choice.keepDays * 86_400)));
  return out;
}

/** The recording choice options express: archiving, DVR window in minutes, days kept (0: all). */
export function recordingOf(o: PublishingPointOptions): Required<RecordingChoice> {
  const r = resolvePpOptions(o);
  return {
    record: r.archiving,
    dvrWindowMinutes: Math.round((r.dvrWindow / 60) * 100) / 100,
    keepDays: Math.round((r.archiveLength / 86_400) * 100) / 100,
  };
}

/**
 * Whether going from `before` to `after` only adds recording: every option that changes is one of
 * {@link RECORDING_OPTION_NAMES}, archiving is on afterwards, and nothing kept before is dropped sooner (when
 * archiving was already on, `archive_length` does not shrink). Such a change may be made on an idle publishing
 * point without purging its archive first: what is there stays, more is kept from the next publish.
 */
export function onlyAddsRecording(before: PublishingPointOptions, after: PublishingPointOptions): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) if (before[k] !== after[k] && !RECORDING_OPTION_NAMES.includes(k)) return false;
  const a = resolvePpOptions(after);
  if (!a.archiving) return false;
  const b = resolvePpOptions(before);
  if (!b.archiving) return true;
  // 0 keeps everything: from "everything", only "everything"; otherwise, as long or longer (or everything).
  if (b.archiveLength <= 0) return a.archiveLength <= 0;
  return a.archiveLength <= 0 || a.archiveLength >= b.archiveLength;
}
