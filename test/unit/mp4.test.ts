import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FragmentSplitter,
  Mp4FormatError,
  parseFragment,
  parseInit,
  setBaseMediaDecodeTime,
  type InitInfo,
} from '../../main/origin/mp4.js';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';
const FRAG_FLAGS = ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-'];

function ffmpeg(args: string[]): Buffer {
  return execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** 4 s of 320x180 at 30 fps, a keyframe every second: 4 fragments. */
const makeVideo = (): Buffer =>
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '4'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', ...FRAG_FLAGS],
  ]);

/** 4 s of stereo AAC at 48 kHz; audio has no keyframe cadence, so -frag_duration cuts it. */
const makeAudio = (): Buffer =>
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4'],
    ...['-c:a', 'aac', '-ac', '2', '-b:a', '128k', '-frag_duration', '1000000', ...FRAG_FLAGS],
  ]);

// --- helpers ---------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SplitResult {
  inits: Buffer[];
  fragments: Buffer[];
  errors: Error[];
}

function split(stream: Buffer, chunkSize: () => number, end = true): SplitResult {
  const result: SplitResult = { inits: [], fragments: [], errors: [] };
  const splitter = new FragmentSplitter({
    onInit: (b) => result.inits.push(b),
    onFragment: (b) => result.fragments.push(b),
    onError: (e) => result.errors.push(e),
  });
  for (let off = 0; off < stream.length;) {
    const n = Math.max(1, chunkSize());
    // A fresh buffer per chunk, as a pipe delivers them.
    splitter.push(Buffer.from(stream.subarray(off, off + n)));
    off += n;
  }
  if (end) splitter.end();
  return result;
}

function randomChunks(seed: number): () => number {
  const r = random(seed);
  return () => (r() < 0.2 ? 1 + Math.floor(r() * 16) : 1 + Math.floor(r() * 5000));
}

/** Top-level boxes of a buffer: [type, offset, size]. */
function topBoxes(buf: Buffer): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let off = 0; off < buf.length;) {
    const size = buf.readUInt32BE(off);
    out.push([buf.toString('latin1', off + 4, off + 8), off, size]);
    off += size;
  }
  return out;
}

function u8(n: number): Buffer {
  return Buffer.from([n]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
function box(type: string, ...parts: Buffer[]): Buffer {
  const payload = Buffer.concat(parts);
  return Buffer.concat([u32(8 + payload.length), Buffer.from(type, 'latin1'), payload]);
}
/** A box with a 64-bit largesize header. */
function largeBox(type: string, ...parts: Buffer[]): Buffer {
  const payload = Buffer.concat(parts);
  return Buffer.concat([u32(1), Buffer.from(type, 'latin1'), u64(16 + payload.length), payload]);
}
function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  return box(type, u32(((version << 24) | flags) >>> 0), ...parts);
}

const SAMPLES = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hijkl')];
const SAMPLE_BYTES = Buffer.concat(SAMPLES);

/**
 * A one-track fragment as ffmpeg would write it, by hand: optional styp, moof (mfhd, traf(tfhd,
 * tfdt, trun...)), mdat. `truns` receive the data offset (moof start → first sample byte).
 */
function handFragment(opts: {
  trackId?: number;
  tfhd?: Buffer;
  tfdtVersion?: 0 | 1;
  time?: number;
  truns?: (dataOffset: number) => Buffer[];
  styp?: boolean;
  largeMoof?: boolean;
}): Buffer {
  const trackId = opts.trackId ?? 1;
  const tfhd = opts.tfhd ?? fullBox('tfhd', 0, 0x020008, u32(trackId), u32(1000));
  const version = opts.tfdtVersion ?? 0;
  const time = opts.time ?? 5;
  const tfdt = fullBox('tfdt', version, 0, version === 1 ? u64(time) : u32(time));
  const truns =
    opts.truns ??
    ((offset: number) => [
      fullBox('trun', 0, 0x000201, u32(3), i32(offset), ...SAMPLES.map((s) => u32(s.length))),
    ]);
  const moof = (offset: number): Buffer =>
    (opts.largeMoof ? largeBox : box)(
      'moof',
      fullBox('mfhd', 0, 0, u32(7)),
      box('traf', tfhd, tfdt, ...truns(offset)),
    );
  const size = moof(0).length;
  return Buffer.concat([
    ...(opts.styp ? [box('styp', Buffer.from('msdh'), u32(0), Buffer.from('msdhmsix'))] : []),
    moof(size + 8),
    box('mdat', SAMPLE_BYTES),
  ]);
}

const HAND_INIT: InitInfo = { trackId: 1, kind: 'video', timescale: 1000, codecs: 'avc1.64001e' };

function ffprobePackets(file: string): { pts: number; dts: number; pts_time: string; flags: string }[] {
  const out = execFileSync(FFPROBE, ['-v', 'error', '-show_packets', '-of', 'json', file], {
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  return (JSON.parse(out) as { packets: { pts: number; dts: number; pts_time: string; flags: string }[] })
    .packets;
}

// --- tests -----------------------------------------------------------------------------------

let video: Buffer;
let audio: Buffer;
let tmp: string;

beforeAll(() => {
  video = makeVideo();
  audio = makeAudio();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mp4-test-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ffmpeg output (facts the integrator relies on)', () => {
  it('is ftyp, moov, moof+mdat pairs and a trailing mfra, with nothing before each moof', () => {
    const types = topBoxes(video).map(([t]) => t);
    expect(types.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(types.at(-1)).toBe('mfra');
    expect(types.slice(2, -1)).toEqual(['moof', 'mdat', 'moof', 'mdat', 'moof', 'mdat', 'moof', 'mdat']);
  });
});

describe('FragmentSplitter', () => {
  function checkBytes(stream: Buffer, r: SplitResult): void {
    const joined = Buffer.concat([...r.inits, ...r.fragments]);
    // Everything but the trailing mfra, byte for byte and in order.
    expect(joined.equals(stream.subarray(0, joined.length))).toBe(true);
    expect(stream.toString('latin1', joined.length + 4, joined.length + 8)).toBe('mfra');
    expect(stream.readUInt32BE(joined.length)).toBe(stream.length - joined.length);
  }

  it('splits video pushed in random-sized chunks into one init and 4 fragments', () => {
    const r = split(video, randomChunks(1));
    expect(r.errors).toEqual([]);
    expect(r.inits).toHaveLength(1);
    expect(r.fragments).toHaveLength(4);
    expect(topBoxes(r.inits[0]!).map(([t]) => t)).toEqual(['ftyp', 'moov']);
    for (const f of r.fragments) expect(topBoxes(f).map(([t]) => t)).toEqual(['moof', 'mdat']);
    checkBytes(video, r);
  });

  it('gives the same result one byte at a time and in one chunk', () => {
    const reference = split(video, () => video.length);
    const bytewise = split(video, () => 1);
    expect(bytewise.errors).toEqual([]);
    expect(bytewise.inits).toEqual(reference.inits);
    expect(bytewise.fragments).toEqual(reference.fragments);
  });

  it('splits audio (cut by -frag_duration) into one init and a fragment per second', () => {
    const r = split(audio, randomChunks(2));
    expect(r.errors).toEqual([]);
    expect(r.inits).toHaveLength(1);
    expect(r.fragments).toHaveLength(topBoxes(audio).filter(([t]) => t === 'moof').length);
    expect(r.fragments.length).toBeGreaterThanOrEqual(4);
    checkBytes(audio, r);
  });

  it('emits a unit only once it is complete', () => {
    const boxes = topBoxes(video);
    const [, moofAt] = boxes[2]!;
    const [, mdatAt, mdatSize] = boxes[3]!;
    const seen: string[] = [];
    const splitter = new FragmentSplitter({
      onInit: () => seen.push('init'),
      onFragment: () => seen.push('fragment'),
    });
    splitter.push(video.subarray(0, moofAt - 1));
    expect(seen).toEqual([]);
    splitter.push(video.subarray(moofAt - 1, moofAt));
    expect(seen).toEqual(['init']); // the moov is complete
    splitter.push(video.subarray(moofAt, mdatAt + mdatSize - 1));
    expect(seen).toEqual(['init']);
    splitter.push(video.subarray(mdatAt + mdatSize - 1, mdatAt + mdatSize));
    expect(seen).toEqual(['init', 'fragment']);
  });

  it('keeps styp/sidx/prft with the moof they precede', () => {
    const frag = handFragment({ styp: true });
    const prft = fullBox('prft', 1, 0, u32(1), u64(0), u64(5));
    const init = split(video, () => video.length).inits[0]!;
    const stream = Buffer.concat([init, frag, prft, handFragment({ time: 3005 })]);
    const r = split(stream, randomChunks(3));
    expect(r.errors).toEqual([]);
    expect(r.fragments).toHaveLength(2);
    expect(r.fragments[0]!.equals(frag)).toBe(true);
    expect(topBoxes(r.fragments[1]!).map(([t]) => t)).toEqual(['prft', 'moof', 'mdat']);
  });

  it('handles 64-bit largesize boxes', () => {
    // Rewrite every top-level mdat with a 16-byte largesize header; the trun data offsets move by 8.
    const parts: Buffer[] = [];
    for (const [type, off, size] of topBoxes(video)) {
      const b = Buffer.from(video.subarray(off, off + size));
      if (type === 'moof') {
        const trun = b.indexOf('trun');
        b.writeInt32BE(b.readInt32BE(trun + 12) + 8, trun + 12); // flags 0xa05: data offset first
        parts.push(b);
      } else if (type === 'mdat') parts.push(largeBox('mdat', b.subarray(8)));
      else parts.push(b);
    }
    const stream = Buffer.concat(parts);
    const r = split(stream, randomChunks(4));
    expect(r.errors).toEqual([]);
    expect(r.fragments).toHaveLength(4);
    const info = parseInit(r.inits[0]!);
    for (const f of r.fragments) {
      const moofSize = f.readUInt32BE(0);
      expect(f.readUInt32BE(moofSize)).toBe(1);
      expect(Number(f.readBigUInt64BE(moofSize + 8))).toBe(f.length - moofSize);
      expect(parseFragment(f, info).sampleCount).toBe(30);
    }
  });

  it('starts a new init when a second stream follows', () => {
    const r = split(Buffer.concat([video, audio]), randomChunks(5));
    expect(r.errors).toEqual([]);
    expect(r.inits).toHaveLength(2);
    expect(r.fragments).toHaveLength(4 + topBoxes(audio).filter(([t]) => t === 'moof').length);
    expect(parseInit(r.inits[1]!).kind).toBe('audio');
  });

  it('reports a stream truncated inside an mdat, after emitting the complete fragments', () => {
    const r = split(video.subarray(0, video.length - 1000), randomChunks(6));
    expect(r.inits).toHaveLength(1);
    expect(r.fragments).toHaveLength(3);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(Mp4FormatError);
    expect(r.errors[0]!.message).toMatch(/truncated.*mdat/);
  });

  it('reports a stream truncated inside a box header or after a moof', () => {
    const boxes = topBoxes(video);
    const [, mdatAt] = boxes[3]!;
    const inHeader = split(video.subarray(0, mdatAt + 5), () => 100);
    expect(inHeader.errors[0]).toBeInstanceOf(Mp4FormatError);
    expect(inHeader.errors[0]!.message).toMatch(/truncated.*header/);
    const afterMoof = split(video.subarray(0, mdatAt), () => 100);
    expect(afterMoof.errors[0]!.message).toMatch(/moof without its mdat/);
    const noMoov = split(video.subarray(0, 100), () => 7);
    expect(noMoov.errors[0]!.message).toMatch(/truncated/);
  });

  it('reports nothing for a complete stream or an empty one', () => {
    expect(split(Buffer.alloc(0), () => 1).errors).toEqual([]);
    const topOnly = video.subarray(0, topBoxes(video)[4]![1]); // ends after the first fragment
    expect(split(topOnly, randomChunks(7)).errors).toEqual([]);
  });

  it('throws from end() when there is no onError handler', () => {
    const splitter = new FragmentSplitter({ onInit: () => undefined, onFragment: () => undefined });
    splitter.push(video.subarray(0, 50));
    expect(() => splitter.end()).toThrow(Mp4FormatError);
  });

  it('rejects input that is not MP4 at once and ignores everything after', () => {
    const html = Buffer.from('<html><body>not a video</body></html>');
    const r = split(Buffer.concat([html, video]), () => 64, false); // no end(): the error comes from push()
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/not an MP4 stream/);
    expect(r.errors[0]).toBeInstanceOf(Mp4FormatError);
    expect(r.inits).toEqual([]);
    const tiny = split(Buffer.concat([u32(4), Buffer.from('free')]), () => 8);
    expect(tiny.errors[0]!.message).toMatch(/smaller than its header/);
  });
});

describe('parseInit', () => {
  it('reads the video init ffmpeg writes', () => {
    const init = split(video, () => 4096).inits[0]!;
    const info = parseInit(init);
    expect(info).toMatchObject({ trackId: 1, kind: 'video', timescale: 15360, width: 320, height: 180 });
    expect(info.codecs).toMatch(/^avc1\.64[0-9a-f]{4}$/); // High profile
    expect(info.sampleRate).toBeUndefined();
    // ffmpeg's trex has zero defaults: the duration comes from each tfhd.
    expect(info.defaultSampleDuration).toBeUndefined();
  });

  it('reads the audio init ffmpeg writes', () => {
    const info = parseInit(split(audio, () => 4096).inits[0]!);
    expect(info).toMatchObject({
      trackId: 1,
      kind: 'audio',
      timescale: 48000,
      codecs: 'mp4a.40.2',
      sampleRate: 48000,
      channels: 2,
    });
    expect(info.width).toBeUndefined();
  });

  it('reads an HEVC init (hvc1 codec string from hvcC)', () => {
    const hevc = ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10', '-t', '1'],
      ...['-c:v', 'libx265', '-x265-params', 'log-level=none', '-tag:v', 'hvc1', ...FRAG_FLAGS],
    ]);
    const info = parseInit(split(hevc, () => hevc.length).inits[0]!);
    expect(info).toMatchObject({ kind: 'video', width: 160, height: 90 });
    expect(info.codecs).toMatch(/^hvc1\.1\.6\.L\d+(\.[0-9a-f]{1,2})*$/); // Main profile, main tier
  });

  it('reads the trex defaults and an mp4a with HE-AAC in its esds', () => {
    const esds = fullBox(
      'esds',
      0,
      0,
      Buffer.from([0x03, 0x80, 0x80, 0x80, 26, 0, 1, 0]), // ES_Descriptor (4-byte length), ES_ID, flags
      Buffer.from([0x04, 18, 0x40, 0x15]), // DecoderConfigDescriptor: MPEG-4 audio, audio stream
      Buffer.alloc(11), // buffer size, max and average bitrate
      // AudioSpecificConfig: AOT 5 (SBR) | core 24000 Hz (6) | 2 channels | output 48000 Hz (3) | AOT 2
      Buffer.from([0x05, 3, 0b00101011, 0b00010001, 0b10001000]),
      Buffer.from([0x06, 1, 2]), // SLConfigDescriptor
    );
    const mp4a = box(
      'mp4a',
      Buffer.alloc(6),
      u16(1),
      Buffer.alloc(8),
      u16(6), // channels
      u16(16),
      u32(0),
      u32(44100 * 65536),
      esds,
    );
    const init = moovWith('soun', 44100, box('stsd', u32(0), u32(1), mp4a), 1024);
    const info = parseInit(init);
    // The codec string names AOT 5; the rate is the SBR output rate, not the core's or the entry's.
    expect(info).toMatchObject({ kind: 'audio', codecs: 'mp4a.40.5', channels: 6, sampleRate: 48000 });
    expect(info.defaultSampleDuration).toBe(1024);
    expect(info.defaultSampleFlags).toBe(0x02000000);
  });

  it('rejects malformed init segments with Mp4FormatError', () => {
    const init = split(video, () => 4096).inits[0]!;
    expect(() => parseInit(init.subarray(0, 28))).toThrow(/no moov/);
    expect(() => parseInit(init.subarray(0, init.length - 10))).toThrow(Mp4FormatError);
    expect(() => parseInit(Buffer.from('hello world, not mp4'))).toThrow(Mp4FormatError);
    expect(() => parseInit(Buffer.alloc(0))).toThrow(/no moov/);
    expect(() => parseInit(box('moov', box('trak', box('mdia'))))).toThrow(/no 'hdlr'/);
    const lying = Buffer.from(init);
    lying.writeUInt32BE(0xffff, 28); // moov size beyond the buffer
    expect(() => parseInit(lying)).toThrow(/runs past the end/);
  });
});

/** A minimal moov with one track of the given handler, stsd and a trex. */
function moovWith(handler: string, timescale: number, stsd: Buffer, trexDuration: number): Buffer {
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(timescale), u32(0), u32(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from(handler), Buffer.alloc(12), u8(0));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(1), Buffer.alloc(68));
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', box('stbl', stsd))));
  const trex = fullBox('trex', 0, 0, u32(1), u32(1), u32(trexDuration), u32(0), u32(0x02000000));
  return Buffer.concat([box('ftyp', Buffer.from('iso6'), u32(0)), box('moov', trak, box('mvex', trex))]);
}

describe('parseFragment', () => {
  it('reads durations, sample counts and continuous tfdts from ffmpeg video', () => {
    const r = split(video, randomChunks(8));
    const info = parseInit(r.inits[0]!);
    const frags = r.fragments.map((f) => parseFragment(f, info));
    expect(frags[0]!.baseMediaDecodeTime).toBe(0);
    for (const [k, f] of frags.entries()) {
      expect(f).toMatchObject({ sampleCount: 30, duration: 15360, startsWithSync: true });
      const next = frags[k + 1];
      if (next) expect(next.baseMediaDecodeTime).toBe(f.baseMediaDecodeTime + f.duration);
    }
    expect(frags.reduce((s, f) => s + f.duration, 0) / info.timescale).toBe(4);
  });

  it('reads ffmpeg audio (durations from the tfhd default)', () => {
    const r = split(audio, randomChunks(9));
    const info = parseInit(r.inits[0]!);
    const frags = r.fragments.map((f) => parseFragment(f, info));
    for (const [k, f] of frags.entries()) {
      expect(f.startsWithSync).toBe(true);
      const next = frags[k + 1];
      if (next) {
        expect(f.duration).toBe(f.sampleCount * 1024);
        expect(next.baseMediaDecodeTime).toBe(f.baseMediaDecodeTime + f.duration);
      } else {
        // ffmpeg writes per-sample durations in the last fragment: its last frame is cut short.
        expect(f.duration).toBeLessThanOrEqual(f.sampleCount * 1024);
        expect(f.duration).toBeGreaterThan((f.sampleCount - 1) * 1024);
      }
    }
    const total = frags.reduce((s, f) => s + f.duration, 0) / info.timescale;
    expect(total).toBeGreaterThan(3.99);
    expect(total).toBeLessThan(4.05);
  });

  it('honours every optional tfhd field and every trun flag', () => {
    // tfhd: base_data_offset, sample_description_index, default duration, size and flags.
    const tfhd = fullBox('tfhd', 0, 0x3b, u32(1), u64(0), u32(1), u32(999), u32(4), u32(0x01010000));
    const frag = handFragment({
      tfhd,
      tfdtVersion: 1,
      time: 2 ** 40,
      truns: (offset) => [
        // version 1 (signed cto), all flags: data offset, first sample flags, duration/size/flags/cto
        fullBox(
          'trun',
          1,
          0xf05,
          u32(2),
          i32(offset),
          u32(0x02000000),
          ...[u32(100), u32(3), u32(0x01010000), i32(-50)],
          ...[u32(200), u32(4), u32(0x01010000), i32(50)],
        ),
        // no per-sample fields: tfhd default duration, tfhd default flags
        fullBox('trun', 0, 0, u32(3)),
      ],
    });
    expect(parseFragment(frag, HAND_INIT)).toEqual({
      baseMediaDecodeTime: 2 ** 40,
      duration: 100 + 200 + 3 * 999,
      sampleCount: 5,
      startsWithSync: true, // first_sample_flags wins over the per-sample flags
    });
  });

  it('takes sync from per-sample flags, then tfhd, then trex', () => {
    const nonSync = 0x01010000;
    const perSample = handFragment({
      truns: () => [fullBox('trun', 0, 0x400, u32(1), u32(nonSync))],
    });
    expect(parseFragment(perSample, HAND_INIT).startsWithSync).toBe(false);
    const tfhdFlags = handFragment({ tfhd: fullBox('tfhd', 0, 0x28, u32(1), u32(10), u32(nonSync)) });
    expect(parseFragment(tfhdFlags, HAND_INIT).startsWithSync).toBe(false);
    const trexFlags = handFragment({ tfhd: fullBox('tfhd', 0, 0x08, u32(1), u32(10)) });
    expect(parseFragment(trexFlags, { ...HAND_INIT, defaultSampleFlags: nonSync }).startsWithSync).toBe(
      false,
    );
    expect(parseFragment(trexFlags, HAND_INIT).startsWithSync).toBe(true);
  });

  it('falls back to the trex default duration, and fails without any', () => {
    const frag = handFragment({ tfhd: fullBox('tfhd', 0, 0x020000, u32(1)) });
    expect(parseFragment(frag, { ...HAND_INIT, defaultSampleDuration: 40 }).duration).toBe(120);
    expect(() => parseFragment(frag, HAND_INIT)).toThrow(/no sample duration/);
  });

  it('rejects malformed fragments with Mp4FormatError', () => {
    const noTfdt = Buffer.concat([
      box('moof', box('traf', fullBox('tfhd', 0, 0x08, u32(1), u32(10)), fullBox('trun', 0, 0, u32(1)))),
      box('mdat'),
    ]);
    expect(() => parseFragment(noTfdt, HAND_INIT)).toThrow(/no tfdt/);
    expect(() => parseFragment(box('mdat'), HAND_INIT)).toThrow(/no moof/);
    expect(() => parseFragment(handFragment({ trackId: 2 }), HAND_INIT)).toThrow(/no traf for track 1/);
    const hugeTrun = handFragment({ truns: () => [fullBox('trun', 0, 0x100, u32(1e9))] });
    expect(() => parseFragment(hugeTrun, HAND_INIT)).toThrow(/trun declares 1000000000 samples/);
    const frag = handFragment({});
    expect(() => parseFragment(frag.subarray(0, 40), HAND_INIT)).toThrow(/runs past the end/);
  });

  it('never throws anything but Mp4FormatError on corrupted input', () => {
    const r = split(video, () => video.length);
    const init = r.inits[0]!;
    const fragment = r.fragments[0]!;
    const info = parseInit(init);
    const rand = random(42);
    const attempt = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        if (!(err instanceof Mp4FormatError)) throw err;
      }
    };
    for (let i = 0; i < 2000; i++) {
      for (const [source, parse] of [
        [init, (b: Buffer) => parseInit(b)],
        [fragment.subarray(0, 400), (b: Buffer) => parseFragment(b, info)],
        [fragment.subarray(0, 400), (b: Buffer) => setBaseMediaDecodeTime(b, 2 ** 33)],
      ] as const) {
        const b = Buffer.from(source.subarray(0, Math.floor(rand() * (source.length + 1))));
        for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        attempt(() => parse(b));
      }
    }
  });
});

describe('setBaseMediaDecodeTime', () => {
  it('rewrites ffmpeg video (tfdt v1) so that ffprobe sees the new timestamps', () => {
    const r = split(video, () => 65536);
    const info = parseInit(r.inits[0]!);
    const shift = 1_700_000_000 * info.timescale; // a wall-clock anchored timeline: beyond 32 bits
    const rewritten = r.fragments.map((f) => {
      const t = parseFragment(f, info).baseMediaDecodeTime;
      const out = setBaseMediaDecodeTime(f, t + shift);
      expect(out.length).toBe(f.length); // already version 1: no growth
      expect(parseFragment(out, info)).toEqual({ ...parseFragment(f, info), baseMediaDecodeTime: t + shift });
      return out;
    });

    const original = path.join(tmp, 'original.mp4');
    const moved = path.join(tmp, 'moved.mp4');
    fs.writeFileSync(original, Buffer.concat([r.inits[0]!, ...r.fragments]));
    fs.writeFileSync(moved, Buffer.concat([r.inits[0]!, ...rewritten]));
    const before = ffprobePackets(original);
    const after = ffprobePackets(moved);
    expect(after).toHaveLength(120);
    expect(after.map((p) => p.pts)).toEqual(before.map((p) => p.pts + shift));
    expect(after.map((p) => p.dts)).toEqual(before.map((p) => p.dts + shift));
    const firstPts = Math.min(...after.map((p) => Number(p.pts_time)));
    const firstPtsBefore = Math.min(...before.map((p) => Number(p.pts_time)));
    expect(firstPts).toBeCloseTo(1_700_000_000 + firstPtsBefore, 4);
  });

  it('rewrites ffmpeg audio so that ffprobe sees pts from the new time', () => {
    const r = split(audio, () => 65536);
    const info = parseInit(r.inits[0]!);
    const start = 3600 * info.timescale; // one hour
    let t = start;
    const rewritten = r.fragments.map((f) => {
      const out = setBaseMediaDecodeTime(f, t);
      t += parseFragment(f, info).duration;
      return out;
    });
    const file = path.join(tmp, 'audio.mp4');
    fs.writeFileSync(file, Buffer.concat([r.inits[0]!, ...rewritten]));
    const packets = ffprobePackets(file);
    expect(packets[0]!.pts).toBe(start);
    expect(Number(packets[0]!.pts_time)).toBeCloseTo(3600, 6);
  });

  it('upgrades a version 0 tfdt to version 1 when the time needs 64 bits', () => {
    const frag = handFragment({ styp: true, time: 5 });
    const copy = Buffer.from(frag);
    const time = 2 ** 32 + 7;
    const out = setBaseMediaDecodeTime(frag, time);
    expect(frag.equals(copy)).toBe(true); // the input is untouched

    expect(out.length).toBe(frag.length + 4);
    const [styp, moof, mdat] = topBoxes(out);
    expect(styp![0]).toBe('styp');
    expect(moof).toEqual(['moof', styp![2], topBoxes(frag)[1]![2] + 4]);
    expect(mdat![0]).toBe('mdat');
    const moofAt = moof![1];
    const trafAt = out.indexOf('traf') - 4;
    const tfdtAt = out.indexOf('tfdt') - 4;
    const trunAt = out.indexOf('trun') - 4;
    expect(out.readUInt32BE(trafAt)).toBe(frag.readUInt32BE(frag.indexOf('traf') - 4) + 4);
    expect(out.readUInt32BE(tfdtAt)).toBe(20);
    expect(out[tfdtAt + 8]).toBe(1);
    expect(Number(out.readBigUInt64BE(tfdtAt + 12))).toBe(time);
    // data_offset still points at the first sample byte, relative to the moof.
    const dataOffset = out.readInt32BE(trunAt + 16);
    expect(dataOffset).toBe(frag.readInt32BE(frag.indexOf('trun') + 12) + 4);
    expect(out.subarray(moofAt + dataOffset, moofAt + dataOffset + SAMPLE_BYTES.length)).toEqual(
      SAMPLE_BYTES,
    );
    expect(parseFragment(out, HAND_INIT)).toEqual({
      baseMediaDecodeTime: time,
      duration: 3000,
      sampleCount: 3,
      startsWithSync: true,
    });
    // And back down: a version 1 tfdt stays version 1.
    const back = setBaseMediaDecodeTime(out, 9);
    expect(back.length).toBe(out.length);
    expect(parseFragment(back, HAND_INIT).baseMediaDecodeTime).toBe(9);
  });

  it('keeps a version 0 tfdt in place when the time fits 32 bits', () => {
    const frag = handFragment({ time: 5 });
    const out = setBaseMediaDecodeTime(frag, 0xffffffff);
    expect(out.length).toBe(frag.length);
    expect(out[out.indexOf('tfdt') + 4]).toBe(0);
    expect(parseFragment(out, HAND_INIT).baseMediaDecodeTime).toBe(0xffffffff);
  });

  it('upgrades inside a largesize moof and moves an explicit base_data_offset instead', () => {
    const large = setBaseMediaDecodeTime(handFragment({ largeMoof: true }), 2 ** 34);
    expect(large.readUInt32BE(0)).toBe(1);
    const moofSize = Number(large.readBigUInt64BE(8));
    expect(large.toString('latin1', moofSize + 4, moofSize + 8)).toBe('mdat');
    const dataOffset = large.readInt32BE(large.indexOf('trun') + 12);
    expect(large.subarray(dataOffset, dataOffset + 3).toString()).toBe('abc');

    // base_data_offset (absolute; here the fragment is the file) moves; data_offset stays.
    const withBase = (base: number): Buffer =>
      handFragment({
        tfhd: fullBox('tfhd', 0, 0x09, u32(1), u64(base), u32(1000)),
        truns: () => [fullBox('trun', 0, 0x201, u32(3), i32(0), ...SAMPLES.map((s) => u32(s.length)))],
      });
    const mdatAt = topBoxes(withBase(0))[1]![1];
    const frag = withBase(mdatAt + 8);
    const out = setBaseMediaDecodeTime(frag, 2 ** 33);
    expect(out.length).toBe(frag.length + 4);
    expect(parseFragment(out, HAND_INIT).baseMediaDecodeTime).toBe(2 ** 33);
    const base = Number(out.readBigUInt64BE(out.indexOf('tfhd') + 12));
    expect(base).toBe(mdatAt + 8 + 4);
    expect(out.readInt32BE(out.indexOf('trun') + 12)).toBe(0);
    expect(out.subarray(base, base + 3).toString()).toBe('abc');
  });

  it('rejects a bad time or a fragment without tfdt', () => {
    const frag = handFragment({});
    expect(() => setBaseMediaDecodeTime(frag, -1)).toThrow(RangeError);
    expect(() => setBaseMediaDecodeTime(frag, 1.5)).toThrow(RangeError);
    const noTfdt = Buffer.concat([box('moof', box('traf', fullBox('tfhd', 0, 0, u32(1)))), box('mdat')]);
    expect(() => setBaseMediaDecodeTime(noTfdt, 1)).toThrow(Mp4FormatError);
    expect(() => setBaseMediaDecodeTime(Buffer.from('garbage!'), 1)).toThrow(Mp4FormatError);
  });
});
