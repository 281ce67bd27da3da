/**
 * SMIL documents of the publishing point API (Unified Streaming's style, see the seed
 * `002_4a6cb437b41434f0.txt`):
 * - the server manifest (`<pp>.isml`) that POST/PUT send and GET returns: options as `<head><meta>`,
 *   the announced tracks in `<body><switch>`;
 * - the read-only `/state`, `/statistics` and `/archive` documents.
 *
 * Parsing uses fast-xml-parser (a document with a DOCTYPE/ENTITY declaration is refused outright, so
 * no entity expansion happens). Output is built line by line, in exactly the seed's layout.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { PublishingPointOptions } from './publishing-point-options.js';
import type { PublishingPointState } from '../contract/contract.js';

export type { PublishingPointOptions } from './publishing-point-options.js';

/** The body is not a SMIL server manifest; the message says why (for a 400). */
export class SmilError extends Error {
  readonly code = 'SMIL_MALFORMED';
  constructor(message: string) {
    super(message);
    this.name = 'SmilError';
  }
}

/** A track as announced to the publishing point (shown in the server manifest's <switch> and in /statistics, /archive). */
export interface SmilTrack {
  trackId: number;
  trackName: string;
  kind: 'video' | 'audio';
  /** e.g. 'video_source.cmfv' / 'audio_source.cmfa' */
  src: string;
  /** bits per second */
  systemBitrate: number;
  timescale?: number;
  codecs?: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

export type { PublishingPointState };

export interface TrackStatistics extends SmilTrack {
  state: PublishingPointState;
  /** ms since epoch */
  updated: number;
  /** seconds ingested */
  duration: number;
}

export interface ArchiveTrack extends SmilTrack {
  /** ms since epoch, fractions allowed; written in the given order */
  ranges: Array<{ start: number; end: number }>;
}

const SMIL_NS = 'http://www.w3.org/2001/SMIL20/Language';
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';
const CREATED_WITH = '<!-- Created with eCDN Appliance -->';

// ---------------------------------------------------------------------------------------------
// Parsing

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // Attribute values are kept exactly as sent (an option's content may carry spaces).
  trimValues: false,
  // Decodes numeric character references (&#10;) besides the five XML entities.
  htmlEntities: true,
});

/** One entry of fast-xml-parser's `preserveOrder` output: `{ [tagName]: children, ':@'?: attributes }`. */
type OrderedNode = Record<string, unknown>;

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
}

function toElements(nodes: unknown): Element[] {
  if (!Array.isArray(nodes)) return [];
  const out: Element[] = [];
  for (const node of nodes as OrderedNode[]) {
    if (typeof node !== 'object' || node === null) continue;
    const name = Object.keys(node).find((k) => k !== ':@');
    // Text, CDATA and processing instructions (`?xml`) are not elements.
    if (name === undefined || name === '#text' || name.startsWith('?')) continue;
    const rawAttrs = node[':@'];
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    if (typeof rawAttrs === 'object' && rawAttrs !== null) {
      for (const [k, v] of Object.entries(rawAttrs as Record<string, unknown>)) {
        if (v !== undefined && v !== null) attrs[k] = String(v);
      }
    }
    out.push({ name, attrs, children: toElements(node[name]) });
  }
  return out;
}

const childrenNamed = (el: Element, name: string): Element[] => el.children.filter((c) => c.name === name);

function parseInteger(value: string, what: string, min: number): number {
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw new SmilError(`${what} must be an integer, got "${value}"`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new SmilError(`${what} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function parseTrack(el: Element, position: number): SmilTrack {
  const kind = el.name as 'video' | 'audio';
  const where = `<${kind}> #${position} in <switch>`;
  const src = el.attrs['src'];
  if (src === undefined || src.trim() === '') throw new SmilError(`${where} has no src attribute`);
  const bitrate = el.attrs['systemBitrate'];
  if (bitrate === undefined) throw new SmilError(`${where} has no systemBitrate attribute`);

  // <param name value>, names matched case-insensitively; the last of a name wins.
  const params = new Map<string, string>();
  for (const p of childrenNamed(el, 'param')) {
    const name = p.attrs['name'];
    if (name !== undefined) params.set(name.toLowerCase(), p.attrs['value'] ?? '');
  }
  const intParam = (name: string, min: number): number | undefined => {
    const v = params.get(name.toLowerCase());
    return v === undefined || v.trim() === '' ? undefined : parseInteger(v, `${where}: param ${name}`, min);
  };

  const trackName = params.get('trackname');
  const track: SmilTrack = {
    trackId: intParam('trackID', 1) ?? position,
    trackName: trackName !== undefined && trackName.trim() !== '' ? trackName : kind,
    kind,
    src,
    systemBitrate: parseInteger(bitrate, `${where}: systemBitrate`, 0),
  };
  const timescale = intParam('timescale', 1);
  if (timescale !== undefined) track.timescale = timescale;
  const codecs = params.get('codecs')?.trim();
  if (codecs) track.codecs = codecs;
  if (kind === 'video') {
    const width = intParam('MaxWidth', 1);
    const height = intParam('MaxHeight', 1);
    if (width !== undefined) track.width = width;
    if (height !== undefined) track.height = height;
  } else {
    const sampleRate = intParam('SamplingRate', 1);
    const channels = intParam('Channels', 1);
    if (sampleRate !== undefined) track.sampleRate = sampleRate;
    if (channels !== undefined) track.channels = channels;
  }
  return track;
}

/**
 * Parses a server manifest body (POST/PUT). Options = every `<head><meta name content/>`, in document
 * order, unknown ones kept; a `<meta>` without a (non-empty) name is ignored, a missing content is '';
 * of duplicate names the last value wins, at the place of the first. Tracks are the `<video>`/`<audio>`
 * elements of `<body><switch>` (never required; other elements there are ignored).
 * @throws SmilError not well-formed XML, a DOCTYPE/ENTITY declaration, a root that is not `smil`,
 *   or a track with a missing src/systemBitrate, a non-integer number or a duplicate trackID.
 */
export function parseServerManifest(xml: string): { options: PublishingPointOptions; tracks: SmilTrack[] } {
  const text = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  if (text.trim() === '') throw new SmilError('the SMIL document is empty');
  const upper = text.toUpperCase();
  if (upper.includes('<!DOCTYPE') || upper.includes('<!ENTITY')) {
    throw new SmilError('DOCTYPE and ENTITY declarations are not allowed in a SMIL document');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new SmilError(`the SMIL document is not well-formed XML: ${msg} (line ${line}, column ${col})`);
  }
  let roots: Element[];
  try {
    roots = toElements(parser.parse(text));
  } catch (e) {
    throw new SmilError(
      `the SMIL document could not be parsed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (roots.length !== 1) throw new SmilError(`expected one root element <smil>, found ${roots.length}`);
  const root = roots[0]!;
  if (root.name !== 'smil') throw new SmilError(`the root element is <${root.name}>, expected <smil>`);

  const options = new Map<string, string>();
  for (const head of childrenNamed(root, 'head')) {
    for (const meta of childrenNamed(head, 'meta')) {
      const name = meta.attrs['name'];
      if (name === undefined || name === '') continue;
      options.set(name, meta.attrs['content'] ?? '');
    }
  }

  const tracks: SmilTrack[] = [];
  for (const body of childrenNamed(root, 'body')) {
    for (const sw of childrenNamed(body, 'switch')) {
      for (const el of sw.children) {
        if (el.name === 'video' || el.name === 'audio') tracks.push(parseTrack(el, tracks.length + 1));
      }
    }
  }
  const ids = new Set<number>();
  for (const t of tracks) {
    if (ids.has(t.trackId)) throw new SmilError(`trackID ${t.trackId} is used by more than one track`);
    ids.add(t.trackId);
  }

  // Object.fromEntries defines own properties, so a name like "__proto__" stays an ordinary option.
  return { options: Object.fromEntries(options), tracks };
}

// ---------------------------------------------------------------------------------------------
// Output

/** Characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, U+FFFE/F, lone surrogates). */
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * An attribute value for a double-quoted attribute: & < > " escaped; tab/LF/CR as character
 * references (so they survive attribute-value normalisation); characters XML cannot carry become U+FFFD.
 */
function attr(value: string | number): string {
  return String(value)
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c] ?? c);
}

/** ISO 8601 UTC with exactly 6 fractional digits: 2015-05-06T01:57:12.313929Z. */
export function isoMicros(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  const micros = Math.round(ms * 1000);
  const fraction = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  const seconds = (micros - fraction) / 1_000_000;
  const iso = new Date(seconds * 1000).toISOString(); // ...T01:57:12.000Z (or ±YYYYYY-... far out)
  return `${iso.slice(0, -5)}.${String(fraction).padStart(6, '0')}Z`;
}

/** Converts seconds to the `duration` param's unit, 1/10,000,000 s (HNS). */
const hns = (seconds: number): number => Math.round(seconds * 10_000_000);

function document(rootLine: string, lines: string[]): string {
  return [XML_DECLARATION, CREATED_WITH, ...rootLine.split('\n'), ...lines, '</smil>', ''].join('\n');
}

/**
 * The server manifest a GET returns: head metas (the options, in their order) and, once streams
 * arrived, `<switch>` with one `<video>`/`<audio>` per track carrying `<param>` trackID, trackName,
 * timescale, FourCC (AVC1/AACL), codecs, MaxWidth/MaxHeight (video) or SamplingRate/Channels
 * (audio) when known.
 */
export function renderServerManifest(options: PublishingPointOptions, tracks: readonly SmilTrack[]): string {
  const lines = ['  <head>'];
  for (const [name, content] of Object.entries(options)) {
    lines.push(`    <meta name="${attr(name)}" content="${attr(content)}" />`);
  }
  lines.push('  </head>', '  <body>', '    <switch>');
  for (const t of tracks) {
    type Param = [name: string, value: string | number | undefined];
    const sizes: Param[] =
      t.kind === 'video'
        ? [
            ['MaxWidth', t.width],
            ['MaxHeight', t.height],
          ]
        : [
            ['SamplingRate', t.sampleRate],
            ['Channels', t.channels],
          ];
    const params: Param[] = [
      ['trackID', t.trackId],
      ['trackName', t.trackName],
      ['timescale', t.timescale],
      ['FourCC', t.kind === 'video' ? 'AVC1' : 'AACL'],
      ['codecs', t.codecs],
      ...sizes,
    ];
    lines.push(`      <${t.kind} src="${attr(t.src)}" systemBitrate="${attr(t.systemBitrate)}">`);
    for (const [name, value] of params) {
      if (value === undefined) continue;
      lines.push(`        <param name="${name}" value="${attr(value)}" valueType="data" />`);
    }
    lines.push(`      </${t.kind}>`);
  }
  lines.push('    </switch>', '  </body>');
  return document(`<smil xmlns="${SMIL_NS}">`, lines);
}

/** The seed's multi-line style: `<name` then one attribute a line (indent + 2), `>` after the last. */
function openTag(indent: string, name: string, attrs: Array<[string, string | number]>): string[] {
  const lines = [`${indent}<${name}`];
  attrs.forEach(([k, v], i) => {
    lines.push(`${indent}  ${k}="${attr(v)}"${i === attrs.length - 1 ? '>' : ''}`);
  });
  return lines;
}

const metaLines = (name: string, content: string): string[] => [
  ...openTag('    ', 'meta', [
    ['name', name],
    ['content', content],
  ]),
  '    </meta>',
];

const paramLines = (name: string, value: string | number): string[] => [
  ...openTag('      ', 'param', [
    ['name', name],
    ['value', value],
    ['valueType', 'data'],
  ]),
  '      </param>',
];

const trackOpen = (t: SmilTrack): string[] =>
  openTag('    ', t.kind, [
    ['src', t.src],
    ['systemBitrate', t.systemBitrate],
  ]);

const SMIL_OPEN = `<smil\n  xmlns="${SMIL_NS}">`;

/** `/state`: the publishing point's state and the time of its last update. */
export function renderState(updated: number, state: PublishingPointState): string {
  return document(SMIL_OPEN, [
    '  <head>',
    ...metaLines('updated', isoMicros(updated)),
    ...metaLines('state', state),
    '  </head>',
  ]);
}

/** `/statistics`: state, last update and ingested duration (in 1/10,000,000 s) per track. */
export function renderStatistics(updated: number, tracks: readonly TrackStatistics[]): string {
  const lines = ['  <head>', ...metaLines('updated', isoMicros(updated)), '  </head>', '  <body>'];
  for (const t of tracks) {
    lines.push(
      ...trackOpen(t),
      ...paramLines('trackID', t.trackId),
      ...paramLines('trackName', t.trackName),
      ...paramLines('state', t.state),
      ...paramLines('updated', isoMicros(t.updated)),
      ...paramLines('duration', hns(t.duration)),
      `    </${t.kind}>`,
    );
  }
  lines.push('  </body>');
  return document(SMIL_OPEN, lines);
}

/** `/archive`: one `<c start end />` per continuous range; a track without ranges is left out. */
export function renderArchive(updated: number, tracks: readonly ArchiveTrack[]): string {
  const lines = ['  <head>', ...metaLines('updated', isoMicros(updated)), '  </head>', '  <body>'];
  for (const t of tracks) {
    if (t.ranges.length === 0) continue;
    lines.push(...trackOpen(t), ...paramLines('trackID', t.trackId), ...paramLines('trackName', t.trackName));
    for (const r of t.ranges) {
      lines.push(`      <c start="${attr(isoMicros(r.start))}" end="${attr(isoMicros(r.end))}" />`);
    }
    lines.push(`    </${t.kind}>`);
  }
  lines.push('  </body>');
  return document(SMIL_OPEN, lines);
}
