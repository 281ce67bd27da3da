import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadDefaultProfile,
  type ConversionProfile,
  type EncodeSpec,
} from '../../main/transcode/conversion-profile.js';
import { OUTPUT_TS_OFFSET, planTranscode, type SourceInfo } from '../../main/transcode/ffmpeg-args.js';

const SOURCE_360: SourceInfo = {
  hasVideo: true,
  hasAudio: true,
  width: 640,
  height: 360,
  frameRate: 30,
  videoCodec: 'h264',
  audioCodec: 'aac',
};
const SOURCE_1080: SourceInfo = { ...SOURCE_360, width: 1920, height: 1080 };
const OPTS = { inputUrl: 'rtmp://127.0.0.1:1935/live/0_abcd1234_1', fragmentDuration: 2 };

/** A profile of the given encodes. */
const profileOf = (...encodes: EncodeSpec[]): ConversionProfile => ({ encodes, groups: [], warnings: [] });

/** An H.264 + AAC encode. */
function h264(
  name: string,
  frameSize: EncodeSpec['video']['frameSize'],
  bitrate = 1_000_000,
  audioBitrate = 128_000,
  extra: Partial<EncodeSpec['video']> = {},
): EncodeSpec {
  return {
    name,
    enabled: true,
    video: { codec: 'H.264', bitrate, ...(frameSize ? { frameSize } : {}), ...extra },
    audio: { codec: 'AAC', bitrate: audioBitrate },
    parameters: {},
  };
}
const passthru: EncodeSpec = {
  name: 'source',
  enabled: true,
  video: { codec: 'PassThru' },
  audio: { codec: 'PassThru' },
  parameters: {},
};

/** The arguments of each output, split at `pipe:N`. */
function outputs(args: string[]): { pipe: string; args: string[] }[] {
  const start = args.indexOf('-i') + 2;
  const result: { pipe: string; args: string[] }[] = [];
  let current: string[] = [];
  for (const a of args.slice(start)) {
    if (a.startsWith('pipe:')) {
      result.push({ pipe: a, args: current });
      current = [];
    } else current.push(a);
  }
  expect(current).toEqual([]);
  return result;
}

/** The value after `option` in `args`. */
function valueOf(args: string[], option: string): string | undefined {
  const i = args.indexOf(option);
  return i < 0 ? undefined : args[i + 1];
}

describe('planTranscode', () => {
  it('plans the default ladder for a 360p ingest: 720 dropped, 360 kept, pipes from fd 3', () => {
    const plan = planTranscode(loadDefaultProfile(), SOURCE_360, OPTS);
    expect(plan.warnings).toEqual([]);
    expect(plan.dropped).toEqual([
      { encode: '720', reason: 'output height 720 is greater than the source height 360' },
    ]);
    expect(plan.tracks).toEqual([
      {
        trackName: 'video_source',
        kind: 'video',
        encode: 'source',
        passthrough: true,
        codec: 'h264',
        width: 640,
        height: 360,
        audioTrack: 'audio_source',
      },
      {
        trackName: 'video_360',
        kind: 'video',
        encode: '360',
        passthrough: false,
        codec: 'h264',
        bitrate: 800_000,
        width: 640,
        height: 360,
        audioTrack: 'audio_360',
      },
      { trackName: 'audio_source', kind: 'audio', encode: 'source', passthrough: true, codec: 'aac' },
      {
        trackName: 'audio_360',
        kind: 'audio',
        encode: '360',
        passthrough: false,
        codec: 'aac',
        bitrate: 128_000,
      },
    ]);
    const outs = outputs(plan.args);
    expect(outs.map((o) => o.pipe)).toEqual(['pipe:3', 'pipe:4', 'pipe:5', 'pipe:6']);
    expect(outs.map((o) => valueOf(o.args, '-map'))).toEqual(['0:v:0', '0:v:0', '0:a:0', '0:a:0']);
    expect(outs.map((o) => valueOf(o.args, '-c:v') ?? valueOf(o.args, '-c:a'))).toEqual([
      'copy',
      'libx264',
      'copy',
      'aac',
    ]);
    // 360 from a 360p source: no scaling needed.
    expect(outs[1]?.args).not.toContain('-vf');
    expect(valueOf(outs[1]?.args ?? [], '-b:v')).toBe('800000');
    expect(valueOf(outs[3]?.args ?? [], '-b:a')).toBe('128000');
  });

  it('has the global, progress and input options, and fMP4 fragments per output', () => {
    const { args } = planTranscode(loadDefaultProfile(), SOURCE_1080, OPTS);
    const input = args.indexOf('-i');
    expect(args[input + 1]).toBe(OPTS.inputUrl);
    const before = args.slice(0, input);
    for (const a of [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-rw_timeout',
      '-analyzeduration',
      '-probesize',
    ]) {
      expect(before).toContain(a);
    }
    expect(valueOf(before, '-progress')).toBe('pipe:1');
    expect(valueOf(before, '-stats_period')).toBe('1');
    expect(valueOf(before, '-loglevel')).toBe('warning');
    for (const out of outputs(args)) {
      expect(valueOf(out.args, '-f')).toBe('mp4');
      expect(valueOf(out.args, '-flush_packets')).toBe('1');
      expect(valueOf(out.args, '-output_ts_offset')).toBe(String(OUTPUT_TS_OFFSET));
      const movflags = valueOf(out.args, '-movflags') ?? '';
      expect(out.args.filter((a) => a === '-movflags')).toHaveLength(1);
      for (const flag of ['empty_moov', 'default_base_moof', 'skip_trailer'])
        expect(movflags).toContain(flag);
      if (valueOf(out.args, '-map') === '0:v:0') {
        expect(movflags).toContain('+frag_keyframe');
        expect(valueOf(out.args, '-min_frag_duration')).toBe('1800000');
        expect(out.args).not.toContain('-frag_duration');
      } else {
        expect(movflags).not.toContain('frag_keyframe');
        expect(valueOf(out.args, '-frag_duration')).toBe('2000000');
      }
    }
  });

  it('keeps renditions equal to the source height and drops taller ones', () => {
    const profile = profileOf(
      h264('1080', { fitMode: 'fit-height', height: 1080 }),
      h264('720', { fitMode: 'fit-height', height: 720 }),
      h264('wide', { fitMode: 'fit-width', width: 1920 }),
      h264('480', { fitMode: 'fit-height', height: 480 }),
    );
    const plan = planTranscode(profile, { ...SOURCE_1080, width: 1280, height: 720 }, OPTS);
    expect(plan.dropped.map((d) => d.encode)).toEqual(['1080', 'wide']);
    expect(plan.dropped[1]?.reason).toMatch(/1080 is greater than the source height 720/);
    expect(
      plan.tracks.filter((t) => t.kind === 'video').map((t) => [t.trackName, t.width, t.height]),
    ).toEqual([
      ['video_720', 1280, 720],
      ['video_480', 854, 480],
    ]);
  });

  it('keeps every rendition when the source height is unknown', () => {
    const profile = profileOf(h264('1080', { fitMode: 'fit-height', height: 1080 }));
    const plan = planTranscode(profile, { hasVideo: true, hasAudio: false, videoCodec: 'h264' }, OPTS);
    expect(plan.dropped).toEqual([]);
    expect(plan.tracks).toEqual([
      {
        trackName: 'video_1080',
        kind: 'video',
        encode: '1080',
        passthrough: false,
        codec: 'h264',
        bitrate: 1_000_000,
        height: 1080,
      },
    ]);
  });

  it('deduplicates identical audio and points the video tracks at it', () => {
    const profile = profileOf(
      passthru,
      h264('720', { fitMode: 'fit-height', height: 720 }, 2_500_000, 128_000),
      h264('480', { fitMode: 'fit-height', height: 480 }, 1_200_000, 128_000),
      h264('240', { fitMode: 'fit-height', height: 240 }, 400_000, 64_000),
      { ...passthru, name: 'Source copy!' },
    );
    const plan = planTranscode(profile, SOURCE_1080, OPTS);
    const audio = plan.tracks.filter((t) => t.kind === 'audio');
    expect(audio.map((t) => [t.trackName, t.encode, t.passthrough, t.bitrate])).toEqual([
      ['audio_source', 'source', true, undefined],
      ['audio_720', '720', false, 128_000],
      ['audio_240', '240', false, 64_000],
    ]);
    expect(plan.tracks.filter((t) => t.kind === 'video').map((t) => [t.trackName, t.audioTrack])).toEqual([
      ['video_source', 'audio_source'],
      ['video_720', 'audio_720'],
      ['video_480', 'audio_720'],
      ['video_240', 'audio_240'],
      ['video_source_copy', 'audio_source'],
    ]);
    // One output per track, audio outputs last.
    expect(outputs(plan.args).map((o) => `${o.pipe} ${valueOf(o.args, '-map')}`)).toEqual([
      'pipe:3 0:v:0',
      'pipe:4 0:v:0',
      'pipe:5 0:v:0',
      'pipe:6 0:v:0',
      'pipe:7 0:v:0',
      'pipe:8 0:a:0',
      'pipe:9 0:a:0',
      'pipe:10 0:a:0',
    ]);
  });

  it('numbers the pipes from firstFd and makes track names unique and file-name safe', () => {
    const profile = profileOf(
      h264('HD 720p', { fitMode: 'fit-height', height: 720 }),
      h264('hd-720p', { fitMode: 'fit-height', height: 720 }, 1_000_000, 96_000),
    );
    const plan = planTranscode(profile, SOURCE_1080, { ...OPTS, firstFd: 5 });
    expect(plan.tracks.map((t) => t.trackName)).toEqual([
      'video_hd_720p',
      'video_hd_720p_2',
      'audio_hd_720p',
      'audio_hd_720p_2',
    ]);
    expect(plan.tracks.every((t) => /^[a-z0-9_]+$/.test(t.trackName))).toBe(true);
    expect(outputs(plan.args).map((o) => o.pipe)).toEqual(['pipe:5', 'pipe:6', 'pipe:7', 'pipe:8']);
  });

  it('forces the same key frames on every transcoded rendition', () => {
    const plan = planTranscode(loadDefaultProfile(), SOURCE_1080, OPTS);
    const encoded = outputs(plan.args).filter((o) => valueOf(o.args, '-c:v') === 'libx264');
    expect(encoded).toHaveLength(2);
    for (const o of encoded) {
      expect(valueOf(o.args, '-force_key_frames')).toBe('source');
      expect(valueOf(o.args, '-sc_threshold')).toBe('0');
      expect(valueOf(o.args, '-preset')).toBe('veryfast');
      expect(valueOf(o.args, '-tune')).toBe('zerolatency');
      expect(valueOf(o.args, '-pix_fmt')).toBe('yuv420p');
      expect(valueOf(o.args, '-profile:v')).toBe('main');
      expect(valueOf(o.args, '-fps_mode')).toBe('passthrough');
    }
    expect(
      encoded.map((o) => [valueOf(o.args, '-b:v'), valueOf(o.args, '-maxrate'), valueOf(o.args, '-bufsize')]),
    ).toEqual([
      ['2500000', '2500000', '5000000'],
      ['800000', '800000', '1600000'],
    ]);
  });

  it('forces key frames every Interval frames when FollowSource is false', () => {
    const kfi = { keyFrameInterval: { followSource: false, interval: 50 } };
    const profile = profileOf(
      passthru,
      h264('720', { fitMode: 'fit-height', height: 720 }, 2_500_000, 128_000, kfi),
      h264('360', { fitMode: 'fit-height', height: 360 }, 800_000, 128_000, kfi),
    );
    const rules = (source: SourceInfo) =>
      outputs(planTranscode(profile, source, { ...OPTS, preset: 'ultrafast' }).args)
        .filter((o) => valueOf(o.args, '-c:v') === 'libx264')
        .map((o) => valueOf(o.args, '-force_key_frames'));
    expect(rules({ ...SOURCE_1080, frameRate: 25 })).toEqual([
      'expr:gte(t,n_forced*2)',
      'expr:gte(t,n_forced*2)',
    ]);
    // Frame rate unknown: every fragment duration.
    const { frameRate: _unknown, ...noRate } = SOURCE_1080;
    expect(rules({ ...noRate })).toEqual(['expr:gte(t,n_forced*2)', 'expr:gte(t,n_forced*2)']);
    expect(rules({ ...SOURCE_1080, frameRate: 30 })).toEqual([
      'expr:gte(t,n_forced*1.666667)',
      'expr:gte(t,n_forced*1.666667)',
    ]);
    const plan = planTranscode(profile, SOURCE_1080, OPTS);
    expect(plan.warnings.join('\n')).toMatch(/may not align with passthrough/);
  });

  it('builds the scale filter from the fit mode, always even', () => {
    const modes: [EncodeSpec['video']['frameSize'], string | undefined, number, number][] = [
      [{ fitMode: 'fit-height', height: 360 }, 'scale=-2:360', 640, 360],
      [{ fitMode: 'fit-height', height: 241 }, 'scale=-2:242', 430, 242],
      [{ fitMode: 'fit-width', width: 480 }, 'scale=480:-2', 480, 270],
      [{ fitMode: 'stretch', width: 480, height: 480 }, 'scale=480:480', 480, 480],
      [
        { fitMode: 'fit', width: 480, height: 480 },
        'scale=480:480:force_original_aspect_ratio=decrease:force_divisible_by=2',
        480,
        270,
      ],
      [
        { fitMode: 'letterbox', width: 480, height: 480 },
        'scale=480:480:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=480:480:(ow-iw)/2:(oh-ih)/2',
        480,
        480,
      ],
      [
        { fitMode: 'crop', width: 480, height: 480 },
        'scale=480:480:force_original_aspect_ratio=increase:force_divisible_by=2,crop=480:480',
        480,
        480,
      ],
      [{ fitMode: 'match-source' }, undefined, 1280, 720],
      [undefined, undefined, 1280, 720],
    ];
    for (const [frameSize, filter, width, height] of modes) {
      const plan = planTranscode(
        profileOf(h264('r', frameSize)),
        { ...SOURCE_1080, width: 1280, height: 720 },
        OPTS,
      );
      const [video] = outputs(plan.args);
      expect(valueOf(video?.args ?? [], '-vf'), JSON.stringify(frameSize)).toBe(filter);
      expect([plan.tracks[0]?.width, plan.tracks[0]?.height], JSON.stringify(frameSize)).toEqual([
        width,
        height,
      ]);
    }
    // An odd source size is made even when encoding at source size.
    const odd = planTranscode(
      profileOf(h264('r', { fitMode: 'match-source' })),
      { ...SOURCE_360, width: 853, height: 481 },
      OPTS,
    );
    expect(valueOf(outputs(odd.args)[0]?.args ?? [], '-vf')).toBe('scale=trunc(iw/2)*2:trunc(ih/2)*2');
    expect([odd.tracks[0]?.width, odd.tracks[0]?.height]).toEqual([852, 480]);
  });

  it('encodes a passthrough of non-H.264 / non-AAC sources, with warnings', () => {
    const plan = planTranscode(
      profileOf(passthru),
      { ...SOURCE_360, videoCodec: 'flv1', audioCodec: 'mp3' },
      OPTS,
    );
    expect(plan.tracks.map((t) => [t.trackName, t.passthrough, t.bitrate, t.height])).toEqual([
      ['video_source', false, 800_000, 360],
      ['audio_source', false, 128_000, undefined],
    ]);
    const [video, audio] = outputs(plan.args);
    expect(valueOf(video?.args ?? [], '-c:v')).toBe('libx264');
    expect(valueOf(video?.args ?? [], '-force_key_frames')).toBe('source');
    expect(valueOf(audio?.args ?? [], '-c:a')).toBe('aac');
    expect(plan.warnings).toHaveLength(2);
    expect(plan.warnings[0]).toMatch(/flv1, not h264/);
    expect(plan.warnings[1]).toMatch(/mp3, not aac/);
  });

  it('skips disabled encodes and disabled tracks', () => {
    const profile = profileOf(
      { ...passthru, enabled: false },
      { ...h264('mute', { fitMode: 'fit-height', height: 360 }), audio: { codec: 'Disable' } },
      { ...h264('radio', undefined), video: { codec: 'Disable' } },
      { ...passthru, name: 'nothing', video: { codec: 'Disable' }, audio: { codec: 'Disable' } },
    );
    const plan = planTranscode(profile, SOURCE_1080, OPTS);
    expect(plan.tracks.map((t) => [t.trackName, t.audioTrack])).toEqual([
      ['video_mute', undefined],
      ['audio_radio', undefined],
    ]);
    expect(plan.dropped).toEqual([
      { encode: 'source', reason: 'disabled (Enable=false)' },
      { encode: 'nothing', reason: 'no track: video disabled, audio disabled' },
    ]);
  });

  it('produces only audio for an audio-only source', () => {
    const plan = planTranscode(
      loadDefaultProfile(),
      { hasVideo: false, hasAudio: true, audioCodec: 'aac' },
      OPTS,
    );
    expect(plan.tracks.map((t) => t.trackName)).toEqual(['audio_source', 'audio_720']);
    expect(plan.args).not.toContain('0:v:0');
    expect(plan.args).not.toContain('libx264');
  });

  it('falls back to passing the source through when the profile yields nothing', () => {
    const empty = planTranscode(profileOf(), SOURCE_360, OPTS);
    expect(empty.tracks.map((t) => [t.trackName, t.passthrough])).toEqual([
      ['video_source', true],
      ['audio_source', true],
    ]);
    expect(empty.warnings).toEqual(['no usable track in the conversion profile; passing the source through']);
    const tooBig = planTranscode(
      profileOf(h264('1080', { fitMode: 'fit-height', height: 1080 })),
      SOURCE_360,
      OPTS,
    );
    expect(tooBig.dropped.map((d) => d.encode)).toEqual(['1080']);
    expect(tooBig.tracks.map((t) => t.trackName)).toEqual(['video_source', 'audio_source']);
    expect(() => planTranscode(profileOf(), { hasVideo: false, hasAudio: false }, OPTS)).toThrow(
      /neither video nor audio/,
    );
  });

  it('validates its options and never passes profile strings to ffmpeg', () => {
    expect(() => planTranscode(profileOf(passthru), SOURCE_360, { ...OPTS, fragmentDuration: 0 })).toThrow(
      RangeError,
    );
    expect(() => planTranscode(profileOf(passthru), SOURCE_360, { ...OPTS, firstFd: 2 })).toThrow(RangeError);
    expect(() => planTranscode(profileOf(passthru), SOURCE_360, { ...OPTS, preset: 'fast;rm' })).toThrow(
      /preset/,
    );
    const plan = planTranscode(
      profileOf(
        h264('evil', { fitMode: 'fit-height', height: 360 }, 1_000_000, 128_000, { profile: 'main -f null' }),
      ),
      SOURCE_1080,
      OPTS,
    );
    expect(valueOf(plan.args, '-profile:v')).toBe('main');
    expect(plan.warnings.join('\n')).toMatch(/profile "main -f null" not supported/);
  });
});

/** Top-level MP4 box types, in order. */
function boxes(buf: Buffer): string[] {
  const types: string[] = [];
  for (let off = 0; off + 8 <= buf.length;) {
    const size = buf.readUInt32BE(off);
    types.push(buf.toString('latin1', off + 4, off + 8));
    if (size < 8) break;
    off += size;
  }
  return types;
}

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';

describe.skipIf(!fs.existsSync(FFMPEG))('the default ladder through a real ffmpeg', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ffmpeg-args-'));
    // A 4 s RTMP-like source: H.264 with a 1 s GOP and AAC, in FLV.
    const made = spawnSync(FFMPEG, [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
      ...[
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=640x360:rate=30',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
      ],
      ...[
        '-t',
        '4',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-g',
        '30',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
      ],
      ...['-f', 'flv', path.join(dir, 'source.flv')],
    ]);
    expect(made.status, made.stderr.toString()).toBe(0);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one fMP4 per track to its pipe: ftyp, moov, then moof fragments', async () => {
    const plan = planTranscode(loadDefaultProfile(), SOURCE_360, {
      inputUrl: path.join(dir, 'source.flv'),
      fragmentDuration: 2,
    });
    expect(plan.tracks.map((t) => t.trackName)).toEqual([
      'video_source',
      'video_360',
      'audio_source',
      'audio_360',
    ]);
    expect(plan.dropped.map((d) => d.encode)).toEqual(['720']);

    const child = spawn(FFMPEG, plan.args, {
      stdio: ['ignore', 'pipe', 'pipe', ...plan.tracks.map(() => 'pipe' as const)],
    });
    const chunks = plan.tracks.map(() => [] as Buffer[]);
    plan.tracks.forEach((_t, k) =>
      (child.stdio[3 + k] as Readable).on('data', (d: Buffer) => chunks[k]?.push(d)),
    );
    let progress = '';
    let stderr = '';
    (child.stdio[1] as Readable).on('data', (d: Buffer) => (progress += d.toString()));
    (child.stdio[2] as Readable).on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(progress).toMatch(/^speed=/m);
    expect(progress).toMatch(/^progress=end$/m);

    const keyFrames: Record<string, string> = {};
    for (const [k, track] of plan.tracks.entries()) {
      const bytes = Buffer.concat(chunks[k] ?? []);
      const types = boxes(bytes);
      expect(types.slice(0, 2), track.trackName).toEqual(['ftyp', 'moov']);
      expect(types.filter((t) => t === 'moof').length, track.trackName).toBeGreaterThanOrEqual(1);
      expect(
        types.slice(2).every((t) => t === 'moof' || t === 'mdat'),
        track.trackName,
      ).toBe(true);

      const file = path.join(dir, `${track.trackName}.mp4`);
      fs.writeFileSync(file, bytes);
      const probe = spawnSync(FFPROBE, [
        ...['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,height', '-of', 'json', file],
      ]);
      const streams = (JSON.parse(probe.stdout.toString()) as { streams: Record<string, unknown>[] }).streams;
      expect(streams, track.trackName).toHaveLength(1);
      if (track.kind === 'video') {
        expect(streams[0], track.trackName).toMatchObject({
          codec_type: 'video',
          codec_name: 'h264',
          height: 360,
        });
        const packets = spawnSync(FFPROBE, [
          ...[
            '-v',
            'error',
            '-select_streams',
            'v',
            '-show_entries',
            'packet=pts_time,flags',
            '-of',
            'csv=p=0',
            file,
          ],
        ]);
        keyFrames[track.trackName] = packets.stdout
          .toString()
          .split('\n')
          .filter((l) => l.includes('K'))
          .map((l) => l.split(',')[0])
          .join(' ');
      } else {
        expect(streams[0], track.trackName).toMatchObject({ codec_type: 'audio', codec_name: 'aac' });
      }
    }
    // Transcoded key frames sit at the source's key frames, at the same timestamps.
    expect(keyFrames.video_source?.split(' ')).toHaveLength(4);
    expect(keyFrames.video_360).toBe(keyFrames.video_source);
  });
});
