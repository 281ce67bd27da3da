/**
 * The conversion profile: Wowza transcoder XML (as served by Kaltura's `wowza_liveConversionProfile.serve`,
 * or the appliance's default profile) parsed into a typed ladder of encodes.
 *
 * Parsing is lenient in the way Wowza is: unknown elements are ignored, an unknown codec disables that
 * track with a warning. Only input that is not transcoder XML at all is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type VideoCodec = 'PassThru' | 'Disable' | 'H.264';
export type AudioCodec = 'PassThru' | 'Disable' | 'AAC';

/** `Video/FrameSize`. `fitMode` is lower-cased: match-source | fit-height | fit-width | fit | crop | stretch | letterbox. */
export interface FrameSize {
  fitMode: string;
  width?: number;
  height?: number;
}

/** One `<Encode>`: a rendition of the ladder. */
export interface EncodeSpec {
  name: string;
  enabled: boolean;
  streamName?: string;
  video: {
    codec: VideoCodec;
    /** bits per second */
    bitrate?: number;
    profile?: string;
    frameSize?: FrameSize;
    /** `Interval` is in frames; `followSource` aligns key frames to the source's. */
    keyFrameInterval?: { followSource: boolean; interval?: number };
  };
  audio: { codec: AudioCodec; /** bits per second */ bitrate?: number };
  /** `Video/Parameters/Parameter` Name -> Value (encoder tuning); may be empty. */
  parameters: Record<string, string>;
}

export interface ConversionProfile {
  encodes: EncodeSpec[];
  /** `StreamNameGroups`: which encodes form one adaptive set. */
  groups: { name: string; members: string[] }[];
  warnings: string[];
}

/** The XML is not a transcoder profile at all (not XML, or no `Root/Transcode`). */
export class ConversionProfileError extends Error {
  readonly code = 'CONVERSION_PROFILE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConversionProfileError';
  }
}

/** Where the appliance's default profile lives, relative to this module. */
export const DEFAULT_PROFILE_URL = new URL(
  '../../resources/conversion-profiles/default.xml',
  import.meta.url,
);

export const FIT_MODES = ['match-source', 'fit-height', 'fit-width', 'fit', 'crop', 'stretch', 'letterbox'];

/** Elements that may repeat: always arrays, so a single `<Encode>` or `<Member>` still works. */
const REPEATED = new Set(['Encode', 'StreamNameGroup', 'Member', 'Parameter']);

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (tagName) => REPEATED.has(tagName),
});

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The child element `name` as an object, if it is one. */
function child(node: unknown, name: string): Node | undefined {
  if (!isNode(node)) return undefined;
  const v = node[name];
  const first = Array.isArray(v) ? v[0] : v;
  return isNode(first) ? first : undefined;
}

/** The text of child element `name` (first one if repeated), trimmed; undefined when absent or empty. */
function text(node: unknown, name: string): string | undefined {
  if (!isNode(node)) return undefined;
  const v = node[name];
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean') {
    const s = String(first).trim();
    return s === '' ? undefined : s;
  }
  return undefined;
}

/** The repeated child elements `name` (objects only). */
function list(node: unknown, name: string): Node[] {
  if (!isNode(node)) return [];
  const v = node[name];
  return (Array.isArray(v) ? v : [v]).filter(isNode);
}

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return fallback;
}

/** A positive integer, or undefined (with a warning when present but not a number, e.g. `${SourceVideoBitrate}`). */
function positiveInt(value: string | undefined, what: string, warnings: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value) && Number(value) > 0) return Number(value);
  warnings.push(`${what}: "${value}" is not a positive integer; ignored`);
  return undefined;
}

/** Normalise a codec name: case, dots, dashes and spaces do not matter (`H264`, `h.264`, `passthru`). */
const codecKey = (codec: string): string => codec.toLowerCase().replace(/[.\s_-]/g, '');

function videoCodec(value: string | undefined, encode: string, warnings: string[]): VideoCodec {
  const key = value === undefined ? '' : codecKey(value);
  if (key === 'passthru' || key === 'passthrough') return 'PassThru';
  if (key === 'disable' || key === 'disabled') return 'Disable';
  if (key === 'h264' || key === 'avc') return 'H.264';
  warnings.push(
    value === undefined
      ? `encode "${encode}": no Video/Codec; video disabled`
      : `encode "${encode}": unsupported video codec "${value}"; video disabled`,
  );
  return 'Disable';
}

function audioCodec(value: string | undefined, encode: string, warnings: string[]): AudioCodec {
  const key = value === undefined ? '' : codecKey(value);
  if (key === 'passthru' || key === 'passthrough') return 'PassThru';
  if (key === 'disable' || key === 'disabled') return 'Disable';
  if (key === 'aac') return 'AAC';
  warnings.push(
    value === undefined
      ? `encode "${encode}": no Audio/Codec; audio disabled`
      : `encode "${encode}": unsupported audio codec "${value}"; audio disabled`,
  );
  return 'Disable';
}

function frameSize(node: Node | undefined, encode: string, warnings: string[]): FrameSize | undefined {
  if (!node) return undefined;
  const width = positiveInt(text(node, 'Width'), `encode "${encode}" FrameSize/Width`, warnings);
  const height = positiveInt(text(node, 'Height'), `encode "${encode}" FrameSize/Height`, warnings);
  let fitMode = text(node, 'FitMode')?.toLowerCase();
  if (fitMode !== undefined && !FIT_MODES.includes(fitMode)) {
    warnings.push(`encode "${encode}": unknown FitMode "${fitMode}"; using match-source`);
    fitMode = 'match-source';
  }
  // No FitMode: infer it from the sizes given.
  fitMode ??=
    height && !width ? 'fit-height' : width && !height ? 'fit-width' : width ? 'fit' : 'match-source';
  return { fitMode, ...(width ? { width } : {}), ...(height ? { height } : {}) };
}

function parseEncode(node: Node, index: number, warnings: string[]): EncodeSpec {
  let name = text(node, 'Name');
  if (name === undefined) {
    name = `encode${index + 1}`;
    warnings.push(`encode #${index + 1} has no Name; called "${name}"`);
  }
  const video = child(node, 'Video');
  const audio = child(node, 'Audio');
  const kfi = child(video, 'KeyFrameInterval');
  const parameters: Record<string, string> = {};
  for (const p of list(child(video, 'Parameters'), 'Parameter')) {
    const key = text(p, 'Name');
    if (key !== undefined) parameters[key] = text(p, 'Value') ?? '';
  }
  const size = frameSize(child(video, 'FrameSize'), name, warnings);
  const videoBitrate = positiveInt(text(video, 'Bitrate'), `encode "${name}" Video/Bitrate`, warnings);
  const profile = text(video, 'Profile');
  const interval = positiveInt(text(kfi, 'Interval'), `encode "${name}" KeyFrameInterval/Interval`, warnings);
  const audioBitrate = positiveInt(text(audio, 'Bitrate'), `encode "${name}" Audio/Bitrate`, warnings);
  const streamName = text(node, 'StreamName');
  return {
    name,
    enabled: bool(text(node, 'Enable'), true),
    ...(streamName !== undefined ? { streamName } : {}),
    video: {
      codec: videoCodec(text(video, 'Codec'), name, warnings),
      ...(videoBitrate !== undefined ? { bitrate: videoBitrate } : {}),
      ...(profile !== undefined ? { profile } : {}),
      ...(size ? { frameSize: size } : {}),
      ...(kfi
        ? {
            keyFrameInterval: {
              followSource: bool(text(kfi, 'FollowSource'), false),
              ...(interval !== undefined ? { interval } : {}),
            },
          }
        : {}),
    },
    audio: {
      codec: audioCodec(text(audio, 'Codec'), name, warnings),
      ...(audioBitrate !== undefined ? { bitrate: audioBitrate } : {}),
    },
    parameters,
  };
}

/** Parse Wowza transcoder XML (`Root/Transcode/Encodes/Encode`...) into a typed profile. */
export function parseConversionProfile(xml: string): ConversionProfile {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new ConversionProfileError(
      `conversion profile is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new ConversionProfileError(`conversion profile could not be parsed: ${(err as Error).message}`);
  }
  const root = child(doc, 'Root');
  // `<Transcode/>` (empty) is a profile without encodes; no Transcode at all is not a profile.
  const transcode = root && 'Transcode' in root ? (child(root, 'Transcode') ?? {}) : undefined;
  if (!transcode) {
    throw new ConversionProfileError(
      'conversion profile has no <Root><Transcode> element: not Wowza transcoder XML',
    );
  }
  const warnings: string[] = [];
  const encodeNodes = list(child(transcode, 'Encodes'), 'Encode');
  const encodes = encodeNodes.map((node, i) => parseEncode(node, i, warnings));
  if (encodes.length === 0) warnings.push('conversion profile has no encodes');

  const names = new Set<string>();
  for (const e of encodes) {
    if (names.has(e.name)) warnings.push(`encode name "${e.name}" is used more than once`);
    names.add(e.name);
  }

  const groups = list(child(transcode, 'StreamNameGroups'), 'StreamNameGroup').map((g, i) => {
    const members = list(child(g, 'Members'), 'Member')
      .map((m) => text(m, 'EncodeName'))
      .filter((m): m is string => m !== undefined);
    const name = text(g, 'Name') ?? `group${i + 1}`;
    for (const m of members) {
      if (!names.has(m)) warnings.push(`stream name group "${name}" names unknown encode "${m}"`);
    }
    return { name, members };
  });
  return { encodes, groups, warnings };
}

/** The same file seen from the compiled module (`dist/main/transcode/`, also inside the packaged app). */
const BUILT_PROFILE_URL = new URL('../../../resources/conversion-profiles/default.xml', import.meta.url);

/** The appliance's default profile (`resources/conversion-profiles/default.xml`), or the profile in `file`. */
export function loadDefaultProfile(file?: string | URL): ConversionProfile {
  const path = file ?? (existsSync(DEFAULT_PROFILE_URL) ? DEFAULT_PROFILE_URL : BUILT_PROFILE_URL);
  return parseConversionProfile(readFileSync(path, 'utf8'));
}
