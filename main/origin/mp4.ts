/**
 * Fragmented MP4 (CMAF) at the byte level: split ffmpeg's fMP4 output into the init segment and
 * fragments, read what the segment index needs from them, and rewrite a fragment's decode time.
 *
 * Box layout (ISO/IEC 14496-12): a 32-bit size and a four-character type; size 1 means a 64-bit
 * `largesize` follows the type, size 0 means "to the end of the enclosing container" (or file),
 * type `uuid` adds a 16-byte extended type. All reads here are bounds-checked: malformed input
 * raises {@link Mp4FormatError}, never a RangeError from Buffer.
 */

export class Mp4FormatError extends Error {
  readonly code = 'MP4_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'Mp4FormatError';
  }
}

// ---------------------------------------------------------------------------------------------
// Bounds-checked reading

/** A read position inside [pos, end) of a buffer; every read checks the bound first. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new Mp4FormatError(
        `${this.what}: truncated (needs ${n} more bytes at offset ${this.pos}, only ${this.end - this.pos} left)`,
      );
    }
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Mp4FormatError(`${this.what}: 64-bit value ${v} exceeds 2^53`);
    }
    return Number(v);
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

interface Box {
  type: string;
  /** Offset of the size field. */
  start: number;
  /** Bytes of size + type (+ largesize) (+ uuid extended type). */
  headerSize: number;
  /** Offset just past the box. */
  end: number;
  /** true when the size is a 64-bit largesize. */
  large: boolean;
}

function payloadStart(box: Box): number {
  return box.start + box.headerSize;
}

/** Reads the box header at `start`; the box must end within `limit`. */
function readBox(buf: Buffer, start: number, limit: number): Box {
  if (limit - start < 8) {
    throw new Mp4FormatError(`box header at offset ${start} is truncated (${limit - start} bytes left)`);
  }
  let size = buf.readUInt32BE(start);
  const type = buf.toString('latin1', start + 4, start + 8);
  let headerSize = 8;
  let large = false;
  if (size === 1) {
    if (limit - start < 16) {
      throw new Mp4FormatError(`'${printable(type)}' box at offset ${start}: truncated largesize`);
    }
    const big = buf.readBigUInt64BE(start + 8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new Mp4FormatError(`'${printable(type)}' box at offset ${start}: largesize ${big} is too big`);
    }
    size = Number(big);
    headerSize = 16;
    large = true;
  } else if (size === 0) {
    size = limit - start;
  }
  if (type === 'uuid') headerSize += 16;
  if (size < headerSize) {
    throw new Mp4FormatError(
      `'${printable(type)}' box at offset ${start}: size ${size} is smaller than its header`,
    );
  }
  if (start + size > limit) {
    throw new Mp4FormatError(
      `'${printable(type)}' box at offset ${start}: size ${size} runs past the end of its container (${limit - start} bytes left)`,
    );
  }
  return { type, start, headerSize, end: start + size, large };
}

/** The boxes laid end to end in [start, end). */
function childBoxes(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let off = start;
  while (off < end) {
    const box = readBox(buf, off, end);
    boxes.push(box);
    off = box.end;
  }
  return boxes;
}

function findChild(buf: Buffer, parent: Box, type: string, offset = 0): Box | undefined {
  return childBoxes(buf, payloadStart(parent) + offset, parent.end).find((b) => b.type === type);
}

function requireChild(buf: Buffer, parent: Box, type: string, offset = 0): Box {
  const box = findChild(buf, parent, type, offset);
  if (!box) throw new Mp4FormatError(`'${parent.type}' box has no '${type}' box`);
  return box;
}

function cursorIn(buf: Buffer, box: Box, offset = 0): Cursor {
  return new Cursor(buf, payloadStart(box) + offset, box.end, `'${box.type}' box`);
}

function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : JSON.stringify(type);
}

/** Top-level box types are four printable ASCII characters: anything else is not MP4. */
function isBoxType(type: string): boolean {
  return /^[\x20-\x7e]{4}$/.test(type);
}

// ---------------------------------------------------------------------------------------------
// Splitting the stream

/** Top-level boxes that belong to the fragment of the next moof (CMAF segment/chunk headers). */
const FRAGMENT_PREFIX = new Set(['styp', 'sidx', 'ssix', 'prft', 'emsg']);

/** What an MP4 stream can start with: anything else is not one (an HTML error page, FLV...). */
const FIRST_BOX = new Set(['ftyp', 'styp', 'moov', 'free', 'skip', 'wide', 'pdin', 'uuid']);

/** A guard against garbage that happens to parse as a huge box: nothing legitimate is this big. */
const MAX_BOX_SIZE = 1024 * 1024 * 1024;

export interface FragmentSplitterHandlers {
  onInit(init: Buffer): void;
  onFragment(fragment: Buffer): void;
  /** Without it, errors are thrown from push()/end(). */
  onError?(err: Error): void;
}

/**
 * Splits a byte stream into the init segment (everything before the first moof: ftyp+moov) and
 * fragments (moof+mdat, including any styp/sidx/prft that precede the moof). Handles boxes split
 * across chunks arbitrarily, 64-bit `largesize` boxes, and ignores a trailing mfra. Emits nothing
 * until a unit is complete.
 *
 * - The init is emitted as soon as the moov is complete (ftyp + anything else before it + moov);
 *   top-level boxes between the moov and the first fragment (free, udta...) are dropped.
 * - A fragment is emitted when the mdat after its moof is complete.
 * - A new ftyp/moov after fragments starts a new init (a concatenated stream), emitted again.
 * - Emitted buffers are fresh copies, never views into the pushed chunks.
 * - A malformed box header is fatal: it is reported once and later input is ignored.
 */
export class FragmentSplitter {
  private readonly handlers: FragmentSplitterHandlers;
  /** Bytes received but not yet part of a complete box. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Header of the box at the front of `chunks`, once known. */
  private header: { type: string; size: number } | undefined;
  /** A size-0 box: runs to the end of the stream. */
  private toEnd: string | undefined;
  /** Complete boxes of the unit being assembled. */
  private unit: Buffer[] = [];
  private phase: 'init' | 'fragments' = 'init';
  private hasMoof = false;
  private failed = false;
  private ended = false;
  /** A first box has been read: until then, input must look like the start of an MP4 stream. */
  private started = false;

  constructor(handlers: FragmentSplitterHandlers) {
    this.handlers = handlers;
  }

  push(chunk: Buffer): void {
    if (this.failed || this.ended || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  end(): void {
    if (this.failed || this.ended) return;
    this.ended = true;
    if (this.toEnd !== undefined) {
      const type = this.toEnd;
      this.toEnd = undefined;
      this.onBox(type, this.take(this.buffered));
      if (this.failed) return;
    }
    if (this.buffered > 0) {
      const what = this.header
        ? `inside a '${printable(this.header.type)}' box (${this.buffered} of ${this.header.size} bytes)`
        : `inside a box header (${this.buffered} bytes)`;
      this.fail(new Mp4FormatError(`stream truncated: ended ${what}`));
    } else if (this.hasMoof) {
      this.fail(new Mp4FormatError('stream truncated: ended after a moof without its mdat'));
    } else if (this.unit.length > 0) {
      this.fail(
        new Mp4FormatError(
          this.phase === 'init'
            ? 'stream truncated: ended before the moov was complete'
            : 'stream truncated: ended after a fragment header without its moof',
        ),
      );
    }
    this.unit = [];
  }

  private drain(): void {
    while (!this.failed) {
      if (this.toEnd !== undefined) return;
      if (!this.header) {
        if (this.buffered < 8) return;
        const head = this.peek(Math.min(16, this.buffered));
        const type = head.toString('latin1', 4, 8);
        if (!isBoxType(type) || (!this.started && !FIRST_BOX.has(type))) {
          const bytes = head.subarray(0, 8).toString('hex');
          this.fail(
            new Mp4FormatError(`not an MP4 stream: box header bytes ${bytes} (type ${printable(type)})`),
          );
          return;
        }
        let size = head.readUInt32BE(0);
        if (size === 1) {
          if (head.length < 16) return;
          const big = head.readBigUInt64BE(8);
          size = big > BigInt(MAX_BOX_SIZE) ? Infinity : Number(big);
          if (size < 16) {
            this.fail(new Mp4FormatError(`'${type}' box: largesize ${size} is smaller than its header`));
            return;
          }
        } else if (size === 0) {
          this.started = true;
          this.toEnd = type;
          return;
        } else if (size < 8) {
          this.fail(new Mp4FormatError(`'${printable(type)}' box: size ${size} is smaller than its header`));
          return;
        }
        if (size > MAX_BOX_SIZE) {
          this.fail(
            new Mp4FormatError(`'${type}' box: size ${size} is beyond the ${MAX_BOX_SIZE} byte limit`),
          );
          return;
        }
        this.header = { type, size };
      }
      if (this.buffered < this.header.size) return;
      const { type, size } = this.header;
      this.header = undefined;
      this.started = true;
      this.onBox(type, this.take(size));
    }
  }

  private onBox(type: string, pieces: Buffer[]): void {
    if (type === 'mfra') return;
    if (this.phase === 'init') {
      if (type === 'moof' || type === 'mdat') {
        this.fail(
          new Mp4FormatError(`'${type}' box before the moov: not a fragmented MP4 with an init segment`),
        );
        return;
      }
      this.unit.push(...pieces);
      if (type === 'moov') {
        const init = Buffer.concat(this.unit);
        this.unit = [];
        this.phase = 'fragments';
        this.handlers.onInit(init);
      }
      return;
    }
    switch (type) {
      case 'ftyp':
      case 'moov':
        if (this.hasMoof || this.unit.length > 0) {
          this.fail(new Mp4FormatError(`'${type}' box inside an unfinished fragment`));
          return;
        }
        this.phase = 'init';
        this.onBox(type, pieces);
        return;
      case 'moof':
        if (this.hasMoof) {
          this.fail(new Mp4FormatError('moof followed by another moof without an mdat'));
          return;
        }
        this.hasMoof = true;
        this.unit.push(...pieces);
        return;
      case 'mdat': {
        if (!this.hasMoof) {
          this.report(new Mp4FormatError('mdat without a preceding moof: skipped'));
          this.unit = [];
          return;
        }
        this.unit.push(...pieces);
        const fragment = Buffer.concat(this.unit);
        this.unit = [];
        this.hasMoof = false;
        this.handlers.onFragment(fragment);
        return;
      }
      default:
        // Fragment headers (styp, sidx, prft...) before the moof, or anything between moof and
        // mdat, travel with the fragment; other top-level boxes between fragments are dropped.
        if (this.hasMoof || FRAGMENT_PREFIX.has(type)) this.unit.push(...pieces);
    }
  }

  /** The first n buffered bytes (n <= buffered), copied only when they span chunks. */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const parts: Buffer[] = [];
    let have = 0;
    for (const c of this.chunks) {
      parts.push(c);
      have += c.length;
      if (have >= n) break;
    }
    return Buffer.concat(parts, n);
  }

  /** Removes the first n buffered bytes and returns them as views into the chunks. */
  private take(n: number): Buffer[] {
    const out: Buffer[] = [];
    let want = n;
    let used = 0;
    for (const c of this.chunks) {
      if (want === 0) break;
      if (c.length <= want) {
        out.push(c);
        used++;
        want -= c.length;
      } else {
        out.push(c.subarray(0, want));
        this.chunks[used] = c.subarray(want);
        want = 0;
      }
    }
    this.chunks.splice(0, used);
    this.buffered -= n;
    return out;
  }

  private fail(err: Error): void {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    this.unit = [];
    this.report(err);
  }

  private report(err: Error): void {
    if (this.handlers.onError) this.handlers.onError(err);
    else throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Init segment

export interface InitInfo {
  trackId: number;
  kind: 'video' | 'audio';
  timescale: number;
  /** RFC 6381, e.g. 'avc1.64001e', 'mp4a.40.2'. */
  codecs: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** trex default_sample_duration, when not 0 (ffmpeg writes 0 and puts the default in each tfhd). */
  defaultSampleDuration?: number;
  /** trex default_sample_flags (used for startsWithSync when a fragment carries no flags at all). */
  defaultSampleFlags?: number;
}

/**
 * Reads the first video or audio track of an init segment (ftyp+moov): mdhd timescale, hdlr,
 * stsd sample entry (codec string, size or sample rate/channels) and the trex defaults.
 */
export function parseInit(init: Buffer): InitInfo {
  const top = childBoxes(init, 0, init.length);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new Mp4FormatError('init segment has no moov box');
  const moovChildren = childBoxes(init, payloadStart(moov), moov.end);

  for (const trak of moovChildren.filter((b) => b.type === 'trak')) {
    const mdia = requireChild(init, trak, 'mdia');
    const hdlr = requireChild(init, mdia, 'hdlr');
    const handler = cursorIn(init, hdlr, 8).bytes(4).toString('latin1');
    if (handler !== 'vide' && handler !== 'soun') continue;
    const kind = handler === 'vide' ? 'video' : 'audio';

    const tkhd = requireChild(init, trak, 'tkhd');
    const tk = cursorIn(init, tkhd);
    const tkVersion = tk.u8();
    tk.skip(3 + (tkVersion === 1 ? 16 : 8));
    const trackId = tk.u32();

    const md = cursorIn(init, requireChild(init, mdia, 'mdhd'));
    const mdVersion = md.u8();
    md.skip(3 + (mdVersion === 1 ? 16 : 8));
    const timescale = md.u32();
    if (timescale === 0) throw new Mp4FormatError('mdhd timescale is 0');

    const stbl = requireChild(init, requireChild(init, mdia, 'minf'), 'stbl');
    const stsd = requireChild(init, stbl, 'stsd');
    const sd = cursorIn(init, stsd);
    sd.skip(4);
    if (sd.u32() < 1) throw new Mp4FormatError('stsd has no sample entry');
    const entry = readBox(init, sd.pos, stsd.end);

    const info: InitInfo =
      kind === 'video'
        ? { trackId, kind, timescale, ...readVisualEntry(init, entry) }
        : { trackId, kind, timescale, ...readAudioEntry(init, entry) };

    const mvex = moovChildren.find((b) => b.type === 'mvex');
    const trex = mvex
      ? childBoxes(init, payloadStart(mvex), mvex.end).find(
          (b) => b.type === 'trex' && cursorIn(init, b, 4).u32() === trackId,
        )
      : undefined;
    if (trex) {
      const tr = cursorIn(init, trex, 12);
      const duration = tr.u32();
      tr.skip(4);
      const flags = tr.u32();
      if (duration > 0) info.defaultSampleDuration = duration;
      info.defaultSampleFlags = flags;
    }
    return info;
  }
  throw new Mp4FormatError('init segment has no video or audio track');
}

/** VisualSampleEntry: 78 bytes of fields after the box header, then child boxes (avcC...). */
function readVisualEntry(buf: Buffer, entry: Box): { codecs: string; width: number; height: number } {
  const c = cursorIn(buf, entry, 24);
  const width = c.u16();
  const height = c.u16();
  c.skip(50);
  const children = childBoxes(buf, c.pos, entry.end);
  const child = (type: string): Box | undefined => children.find((b) => b.type === type);
  const fourcc = entry.type;
  let codecs: string = fourcc;
  if (fourcc === 'avc1' || fourcc === 'avc3') {
    const avcC = child('avcC');
    if (!avcC) throw new Mp4FormatError(`'${fourcc}' sample entry has no avcC box`);
    const a = cursorIn(buf, avcC, 1);
    codecs = `${fourcc}.${a.bytes(3).toString('hex')}`;
  } else if (fourcc === 'hvc1' || fourcc === 'hev1') {
    const hvcC = child('hvcC');
    codecs = hvcC ? hevcCodecs(fourcc, cursorIn(buf, hvcC)) : fourcc;
  }
  return { codecs, width, height };
}

/** ISO/IEC 14496-15 annex E: hvc1.<space><profile>.<compat reversed>.<tier><level>.<constraints>. */
function hevcCodecs(fourcc: string, c: Cursor): string {
  c.skip(1);
  const b = c.u8();
  const space = ['', 'A', 'B', 'C'][b >> 6] ?? '';
  const tier = b & 0x20 ? 'H' : 'L';
  const profile = b & 0x1f;
  const compat = c.u32();
  let reversed = 0;
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) reversed |= 1 << (31 - i);
  const constraints = [...c.bytes(6)];
  const level = c.u8();
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  return [
    fourcc,
    `${space}${profile}`,
    (reversed >>> 0).toString(16),
    `${tier}${level}`,
    ...constraints.map((x) => x.toString(16)),
  ].join('.');
}

/** AudioSampleEntry (v0 as in MP4; QuickTime v1/v2 layouts tolerated), then child boxes (esds...). */
function readAudioEntry(buf: Buffer, entry: Box): { codecs: string; sampleRate: number; channels: number } {
  const c = cursorIn(buf, entry, 8);
  const version = c.u16();
  c.skip(6);
  let channels = c.u16();
  c.skip(6);
  let sampleRate = c.u32() / 65536;
  if (version === 1) {
    c.skip(16);
  } else if (version === 2) {
    c.skip(4);
    sampleRate = c.f64();
    channels = c.u32();
    c.skip(20);
  }
  const children = childBoxes(buf, c.pos, entry.end);
  let codecs: string = entry.type;
  if (entry.type === 'mp4a') {
    codecs = 'mp4a.40.2';
    const esds = children.find((b) => b.type === 'esds');
    if (esds) {
      const es = readEsds(cursorIn(buf, esds, 4));
      if (es.objectType !== undefined) {
        const oti = es.objectType.toString(16).padStart(2, '0');
        codecs = es.audioObjectType !== undefined ? `mp4a.${oti}.${es.audioObjectType}` : `mp4a.${oti}`;
        if (es.objectType === 0x40 && es.audioObjectType === undefined) codecs = 'mp4a.40.2';
      }
      if (es.sampleRate) sampleRate = es.sampleRate;
    }
  } else if (entry.type === 'Opus') {
    codecs = 'opus';
  } else if (entry.type === 'fLaC') {
    codecs = 'flac';
  }
  return { codecs, sampleRate, channels };
}

const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) → AudioSpecificConfig. */
function readEsds(c: Cursor): { objectType?: number; audioObjectType?: number; sampleRate?: number } {
  const descriptor = (): { tag: number; end: number } => {
    const tag = c.u8();
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const b = c.u8();
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    c.need(len);
    return { tag, end: c.pos + len };
  };
  const es = descriptor();
  if (es.tag !== 0x03) return {};
  c.skip(2);
  const flags = c.u8();
  if (flags & 0x80) c.skip(2);
  if (flags & 0x40) c.skip(c.u8());
  if (flags & 0x20) c.skip(2);
  const dc = descriptor();
  if (dc.tag !== 0x04) return {};
  const objectType = c.u8();
  c.skip(12);
  if (c.pos >= dc.end) return { objectType };
  const dsi = descriptor();
  if (dsi.tag !== 0x05 || objectType !== 0x40) return { objectType };
  const asc = c.bytes(Math.min(dsi.end - c.pos, 8));
  let bit = 0;
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = asc[bit >> 3];
      if (byte === undefined) throw new Mp4FormatError('esds: AudioSpecificConfig is truncated');
      v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const objectTypeBits = (): number => {
    const t = bits(5);
    return t === 31 ? 32 + bits(6) : t;
  };
  const frequency = (): number | undefined => {
    const index = bits(4);
    return index === 15 ? bits(24) : AAC_SAMPLE_RATES[index];
  };
  const audioObjectType = objectTypeBits();
  let sampleRate = frequency();
  if (audioObjectType === 5 || audioObjectType === 29) {
    // Explicit SBR/PS signalling: the first rate is the core's, the extension rate is the output's.
    bits(4);
    sampleRate = frequency();
  }
  return { objectType, audioObjectType, ...(sampleRate ? { sampleRate } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Fragments

export interface FragmentInfo {
  baseMediaDecodeTime: number;
  /** Sum of sample durations, timescale units. */
  duration: number;
  sampleCount: number;
  startsWithSync: boolean;
}

const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;
const SAMPLE_IS_NON_SYNC = 0x10000;

interface Tfhd {
  trackId: number;
  flags: number;
  /** Offset of base_data_offset, when present. */
  baseDataOffsetPos?: number;
  defaultDuration?: number;
  defaultFlags?: number;
}

function readTfhd(buf: Buffer, box: Box): Tfhd {
  const c = cursorIn(buf, box);
  const flags = c.u32() & 0xffffff;
  const tfhd: Tfhd = { trackId: c.u32(), flags };
  if (flags & TFHD_BASE_DATA_OFFSET) {
    tfhd.baseDataOffsetPos = c.pos;
    c.u64();
  }
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) c.skip(4);
  if (flags & TFHD_DEFAULT_DURATION) tfhd.defaultDuration = c.u32();
  if (flags & TFHD_DEFAULT_SIZE) c.skip(4);
  if (flags & TFHD_DEFAULT_FLAGS) tfhd.defaultFlags = c.u32();
  return tfhd;
}

interface Trun {
  sampleCount: number;
  /** Offset of data_offset, when present. */
  dataOffsetPos?: number;
  /** Per-sample durations, when the trun carries them. */
  durations?: number[];
  /** Flags of the first sample, when the trun carries them (first_sample_flags or per sample). */
  firstFlags?: number;
}

function readTrun(buf: Buffer, box: Box): Trun {
  const c = cursorIn(buf, box);
  const flags = c.u32() & 0xffffff;
  const sampleCount = c.u32();
  const trun: Trun = { sampleCount };
  if (flags & TRUN_DATA_OFFSET) {
    trun.dataOffsetPos = c.pos;
    c.i32();
  }
  if (flags & TRUN_FIRST_SAMPLE_FLAGS) trun.firstFlags = c.u32();
  const fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO].filter((f) => flags & f).length;
  if (sampleCount * fields * 4 > c.remaining) {
    throw new Mp4FormatError(
      `trun declares ${sampleCount} samples of ${fields * 4} bytes but has ${c.remaining} bytes`,
    );
  }
  const durations: number[] = [];
  for (let i = 0; i < sampleCount; i++) {
    if (flags & TRUN_DURATION) durations.push(c.u32());
    if (flags & TRUN_SIZE) c.skip(4);
    if (flags & TRUN_FLAGS) {
      const sampleFlags = c.u32();
      if (i === 0 && trun.firstFlags === undefined) trun.firstFlags = sampleFlags;
    }
    if (flags & TRUN_CTO) c.skip(4);
  }
  if (flags & TRUN_DURATION) trun.durations = durations;
  return trun;
}

interface Tfdt {
  box: Box;
  version: number;
  time: number;
}

function readTfdt(buf: Buffer, box: Box): Tfdt {
  const c = cursorIn(buf, box);
  const version = c.u8();
  c.skip(3);
  return { box, version, time: version === 1 ? c.u64() : c.u32() };
}

/** The moof of a fragment (after any styp/sidx/prft). */
function findMoof(fragment: Buffer): Box {
  const moof = childBoxes(fragment, 0, fragment.length).find((b) => b.type === 'moof');
  if (!moof) throw new Mp4FormatError('fragment has no moof box');
  return moof;
}

export function parseFragment(fragment: Buffer, init: InitInfo): FragmentInfo {
  const moof = findMoof(fragment);
  const trafs = childBoxes(fragment, payloadStart(moof), moof.end).filter((b) => b.type === 'traf');
  let result: FragmentInfo | undefined;
  for (const traf of trafs) {
    const children = childBoxes(fragment, payloadStart(traf), traf.end);
    const tfhdBox = children.find((b) => b.type === 'tfhd');
    if (!tfhdBox) throw new Mp4FormatError('traf has no tfhd box');
    const tfhd = readTfhd(fragment, tfhdBox);
    if (tfhd.trackId !== init.trackId) continue;
    const tfdtBox = children.find((b) => b.type === 'tfdt');
    if (!tfdtBox) throw new Mp4FormatError(`traf of track ${tfhd.trackId} has no tfdt box`);
    const tfdt = readTfdt(fragment, tfdtBox);

    let duration = 0;
    let sampleCount = 0;
    let firstFlags: number | undefined;
    for (const trunBox of children.filter((b) => b.type === 'trun')) {
      const trun = readTrun(fragment, trunBox);
      if (trun.sampleCount === 0) continue;
      if (sampleCount === 0) firstFlags = trun.firstFlags;
      sampleCount += trun.sampleCount;
      if (trun.durations) {
        for (const d of trun.durations) duration += d;
      } else {
        const fallback = tfhd.defaultDuration ?? init.defaultSampleDuration;
        if (fallback === undefined) {
          throw new Mp4FormatError(
            `track ${tfhd.trackId}: no sample duration in trun, tfhd or trex for ${trun.sampleCount} samples`,
          );
        }
        duration += fallback * trun.sampleCount;
      }
    }
    const flags = firstFlags ?? tfhd.defaultFlags ?? init.defaultSampleFlags ?? 0;
    if (result) {
      // A second traf of the same track continues the first one.
      result.duration += duration;
      result.sampleCount += sampleCount;
    } else {
      result = {
        baseMediaDecodeTime: tfdt.time,
        duration,
        sampleCount,
        startsWithSync: sampleCount > 0 && !(flags & SAMPLE_IS_NON_SYNC),
      };
    }
  }
  if (!result) throw new Mp4FormatError(`fragment has no traf for track ${init.trackId}`);
  return result;
}

/**
 * Returns a copy of the fragment whose tfdt baseMediaDecodeTime is `time`. If the tfdt is
 * version 0 and `time` does not fit 32 bits, it is upgraded to version 1: tfdt, traf and moof
 * sizes grow by 4, and every trun data_offset in that moof is increased by 4 (data offsets are
 * relative to the moof start with default-base-is-moof).
 *
 * With several trafs (one track split in two), the first gets `time` and the others move by the
 * same amount. An explicit tfhd base_data_offset is moved instead of the trun data offsets. Boxes
 * before the moof (styp/sidx/prft; ffmpeg writes none) are copied unchanged.
 */
export function setBaseMediaDecodeTime(fragment: Buffer, time: number): Buffer {
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new RangeError(`baseMediaDecodeTime must be a non-negative safe integer, got ${time}`);
  }
  const moof = findMoof(fragment);
  interface TrafEdit {
    traf: Box;
    tfdt: Tfdt;
    time: number;
    upgrade: boolean;
    tfhd: Tfhd;
    truns: Trun[];
  }
  const edits: TrafEdit[] = [];
  let delta: number | undefined;
  for (const traf of childBoxes(fragment, payloadStart(moof), moof.end).filter((b) => b.type === 'traf')) {
    const children = childBoxes(fragment, payloadStart(traf), traf.end);
    const tfdtBox = children.find((b) => b.type === 'tfdt');
    const tfhdBox = children.find((b) => b.type === 'tfhd');
    if (!tfdtBox) throw new Mp4FormatError('traf has no tfdt box');
    if (!tfhdBox) throw new Mp4FormatError('traf has no tfhd box');
    const tfdt = readTfdt(fragment, tfdtBox);
    delta ??= time - tfdt.time;
    const newTime = tfdt.time + delta;
    if (newTime < 0 || !Number.isSafeInteger(newTime)) {
      throw new Mp4FormatError(`a later traf's tfdt would become ${newTime}`);
    }
    const upgrade = tfdt.version === 0 && newTime > 0xffffffff;
    if (upgrade && (tfdt.box.end - tfdt.box.start !== 16 || tfdt.box.headerSize !== 8)) {
      throw new Mp4FormatError(`version 0 tfdt of ${tfdt.box.end - tfdt.box.start} bytes (expected 16)`);
    }
    edits.push({
      traf,
      tfdt,
      time: newTime,
      upgrade,
      tfhd: readTfhd(fragment, tfhdBox),
      truns: children.filter((b) => b.type === 'trun').map((b) => readTrun(fragment, b)),
    });
  }
  if (edits.length === 0) throw new Mp4FormatError('moof has no traf box');

  // Copy, inserting 4 bytes at each upgraded tfdt; `at` maps an input offset to the output.
  const upgraded = edits.filter((e) => e.upgrade).map((e) => e.tfdt.box.start);
  const grow = upgraded.length * 4;
  const out = Buffer.alloc(fragment.length + grow);
  const at = (pos: number): number => pos + 4 * upgraded.filter((s) => s < pos).length;
  let from = 0;
  for (const start of upgraded) {
    fragment.copy(out, at(from), from, start);
    from = start + 16; // a version 0 tfdt is 16 bytes: size, type, version/flags, 32-bit time
  }
  fragment.copy(out, at(from), from);

  const addToSize = (box: Box, n: number): void => {
    const pos = at(box.start);
    if (box.large) out.writeBigUInt64BE(out.readBigUInt64BE(pos + 8) + BigInt(n), pos + 8);
    else if (out.readUInt32BE(pos) !== 0) out.writeUInt32BE(out.readUInt32BE(pos) + n, pos);
  };
  if (grow > 0) addToSize(moof, grow);

  edits.forEach((e, index) => {
    const pos = at(e.tfdt.box.start);
    if (e.upgrade) {
      out.writeUInt32BE(20, pos);
      out.write('tfdt', pos + 4, 'latin1');
      out.writeUInt32BE(0x01000000 | (fragment.readUInt32BE(e.tfdt.box.start + 8) & 0xffffff), pos + 8);
      out.writeBigUInt64BE(BigInt(e.time), pos + 12);
      addToSize(e.traf, 4);
    } else if (e.tfdt.version === 1) {
      out.writeBigUInt64BE(BigInt(e.time), pos + e.tfdt.box.headerSize + 4);
    } else {
      out.writeUInt32BE(e.time, pos + e.tfdt.box.headerSize + 4);
    }
    if (grow === 0) return;
    // The mdat moved by `grow` bytes: move whatever points at it from the moof or the file start.
    if (e.tfhd.baseDataOffsetPos !== undefined) {
      const p = at(e.tfhd.baseDataOffsetPos);
      out.writeBigUInt64BE(out.readBigUInt64BE(p) + BigInt(grow), p);
    } else if (index === 0 || e.tfhd.flags & TFHD_DEFAULT_BASE_IS_MOOF) {
      for (const trun of e.truns) {
        if (trun.dataOffsetPos === undefined) continue;
        const p = at(trun.dataOffsetPos);
        out.writeInt32BE(out.readInt32BE(p) + grow, p);
      }
    }
    // A later traf without either flag is based on the end of the previous traf's data, which
    // moved along with everything else.
  });
  return out;
}
