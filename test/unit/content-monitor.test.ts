import { describe, expect, it } from 'vitest';
import {
  changeEvent,
  ContentConditions,
  type ConditionChange,
} from '../../main/monitor/content-conditions.js';
import { monitorArgs, monitorSource } from '../../main/monitor/content-monitor.js';
import { parseSignal, SignalReader, type ContentSignal } from '../../main/monitor/content-signals.js';

/** Lines as Debian's ffmpeg 5.1 prints them with the monitor's filters (taken from a real run). */
const LOG = `[Parsed_metadata_5 @ 0x560cebf92100] frame:2    pts:4021    pts_time:4.021
[Parsed_metadata_5 @ 0x560cebf92100] ecdn.frame=1
[Parsed_metadata_5 @ 0x560cebf92100] lavfi.black_start=4.021
[silencedetect @ 0x560cebee4300] silence_start: 4.03331
[freezedetect @ 0x560cebf91480] lavfi.freezedetect.freeze_start: 4.021
[Parsed_metadata_5 @ 0x560cebf92100] lavfi.freezedetect.freeze_start=4.021
[silencedetect @ 0x560cebee4300] silence_end: 12.0318 | silence_duration: 7.99846
[blackdetect @ 0x560cebf90340] black_start:4.021 black_end:14.021 black_duration:10
[freezedetect @ 0x560cebf91480] lavfi.freezedetect.freeze_duration: 10
[freezedetect @ 0x560cebf91480] lavfi.freezedetect.freeze_end: 14.021
[Parsed_metadata_5 @ 0x560cebf92100] lavfi.black_end=14.021
frame=   10 fps=0.5 q=-0.0 Lq=5.0 size=N/A time=00:00:20.03 bitrate=N/A speed=   1x
Input #0, flv, from 'rtmp://127.0.0.1:1935/kLive/0_x_1?k=secret':
`;

describe('content monitor log', () => {
  it('reads frame times and the detectors edges, and nothing else', () => {
    const signals = LOG.split('\n')
      .map(parseSignal)
      .filter((s): s is ContentSignal => s !== undefined);
    expect(signals).toEqual([
      { kind: 'frame', t: 4.021 },
      { kind: 'black', active: true, t: 4.021 },
      { kind: 'silence', active: true, t: 4.03331 },
      { kind: 'freeze', active: true, t: 4.021 },
      { kind: 'freeze', active: true, t: 4.021 },
      { kind: 'silence', active: false, t: 12.0318 },
      { kind: 'freeze', active: false, t: 14.021 },
      { kind: 'black', active: false, t: 14.021 },
    ]);
  });

  it('joins lines split across chunks, with \\r\\n or \\n', () => {
    const got: ContentSignal[] = [];
    const reader = new SignalReader((s) => got.push(s));
    const text = LOG.replace(/\n/g, '\r\n');
    for (let i = 0; i < text.length; i += 7) reader.push(text.slice(i, i + 7));
    expect(got).toHaveLength(8);
    expect(got[0]).toEqual({ kind: 'frame', t: 4.021 });
    expect(got.at(-1)).toEqual({ kind: 'black', active: false, t: 14.021 });
  });

  it('drops an endless line instead of keeping it', () => {
    const got: ContentSignal[] = [];
    const reader = new SignalReader((s) => got.push(s));
    reader.push('x'.repeat(10_000));
    reader.push('lavfi.black_start=3\n');
    // The line that began with 10 000 x is dropped; its end alone still carries the signal.
    expect(got).toEqual([{ kind: 'black', active: true, t: 3 }]);
  });
});

function conditions() {
  const changes: ConditionChange[] = [];
  const c = new ContentConditions((x) => changes.push(x));
  return { c, changes };
}

describe('content conditions', () => {
  it('raises BLACK once the detector held 2 s, and clears it when it ends', () => {
    const { c, changes } = conditions();
    c.signal('black', true, 10_000, 10_500);
    c.tick(11_900);
    expect(changes).toEqual([]);
    c.tick(12_000);
    expect(changes).toEqual([
      { type: 'raised', condition: 'BLACK', level: 'error', since: 10_000, label: 'black picture' },
    ]);
    expect(c.active().map((a) => a.condition)).toEqual(['BLACK']);
    c.tick(20_000);
    expect(changes).toHaveLength(1);
    c.signal('black', false, 21_000, 21_200);
    expect(changes[1]).toMatchObject({ type: 'cleared', condition: 'BLACK', since: 10_000, endedAt: 21_000 });
    expect(changes[1]).toMatchObject({ reason: 'ended' });
    expect(c.active()).toEqual([]);
  });

  it('raises at once when the detector reports an onset already long enough ago', () => {
    const { c, changes } = conditions();
    // silencedetect says so a second after the onset; the monitor maps the onset to the wall clock.
    c.signal('silence', true, 1000, 7000);
    expect(changes).toMatchObject([{ type: 'raised', condition: 'SILENCE', level: 'warn', since: 1000 }]);
  });

  it('does not raise what ends before its minimum duration', () => {
    const { c, changes } = conditions();
    c.signal('silence', true, 0, 1000);
    c.tick(4000);
    c.signal('silence', false, 4500, 4500);
    c.tick(60_000);
    c.signal('freeze', true, 0, 0);
    // freezedetect's start and end at once (a key frame interval longer than its d): no freeze.
    c.signal('freeze', false, 0, 0);
    c.tick(60_000);
    expect(changes).toEqual([]);
  });

  it('an edge repeated (log line and metadata) changes nothing', () => {
    const { c, changes } = conditions();
    c.signal('freeze', true, 0, 5000);
    c.signal('freeze', true, 0, 5000);
    expect(changes).toHaveLength(1);
    expect(c.active()).toMatchObject([{ condition: 'FROZEN', since: 0 }]);
  });

  it('a black picture is not also FROZEN; a raised FROZEN ends when the picture goes black', () => {
    const { c, changes } = conditions();
    c.signal('black', true, 0, 0);
    c.signal('freeze', true, 0, 0);
    c.tick(10_000);
    expect(changes.map((x) => `${x.type} ${x.condition}`)).toEqual(['raised BLACK']);
    c.signal('black', false, 11_000, 11_000);
    c.signal('freeze', false, 11_000, 11_000);

    c.signal('freeze', true, 20_000, 25_000);
    c.signal('black', true, 26_000, 26_000);
    c.tick(28_000);
    expect(changes.map((x) => `${x.type} ${x.condition}`)).toEqual([
      'raised BLACK',
      'cleared BLACK',
      'raised FROZEN',
      'cleared FROZEN',
      'raised BLACK',
    ]);
    expect(changes[3]).toMatchObject({ since: 20_000, endedAt: 26_000, reason: 'black' });
  });

  it('a still picture after a black one counts as frozen from the end of the black', () => {
    const { c, changes } = conditions();
    c.signal('black', true, 0, 0);
    c.signal('freeze', true, 0, 0);
    c.tick(10_000);
    c.signal('black', false, 10_000, 10_000);
    c.tick(14_000);
    expect(changes.map((x) => `${x.type} ${x.condition}`)).toEqual(['raised BLACK', 'cleared BLACK']);
    c.tick(15_000);
    expect(changes.at(-1)).toMatchObject({ type: 'raised', condition: 'FROZEN', since: 10_000 });
  });

  it('stop ends every raised condition and forgets pending ones', () => {
    const { c, changes } = conditions();
    c.signal('black', true, 0, 3000);
    c.signal('silence', true, 1000, 3000);
    c.stop(4000);
    expect(changes.map((x) => `${x.type} ${x.condition}`)).toEqual(['raised BLACK', 'cleared BLACK']);
    expect(changes[1]).toMatchObject({ reason: 'stopped', endedAt: 4000 });
    c.tick(100_000);
    expect(changes).toHaveLength(2);
  });

  it('channel events: <CONDITION>_STARTED at its level, _ENDED as info with how long', () => {
    const since = Date.UTC(2026, 0, 1, 12, 0, 3);
    const raised: ConditionChange = {
      type: 'raised',
      condition: 'BLACK',
      level: 'error',
      since,
      label: 'black picture',
    };
    expect(changeEvent(raised)).toEqual({
      level: 'error',
      code: 'BLACK_STARTED',
      message: 'Black picture since 12:00:03 UTC',
    });
    expect(changeEvent({ ...raised, type: 'cleared', endedAt: since + 12_400, reason: 'ended' })).toEqual({
      level: 'info',
      code: 'BLACK_ENDED',
      message: 'Black picture ended after 12 s',
    });
    expect(
      changeEvent({ ...raised, type: 'cleared', endedAt: since + 1000, reason: 'stopped' }).message,
    ).toMatch(/no longer watched/);
  });
});

describe('monitor process', () => {
  it('decodes key frames only, detects on a small picture, writes the thumbnail atomically', () => {
    const args = monitorArgs('rtmp://in?k=x', '/pp/thumbnail.jpg', { hasVideo: true, hasAudio: true });
    const at = (flag: string) => args.indexOf(flag);
    expect(args.slice(at('-skip_frame'), at('-skip_frame') + 2)).toEqual(['-skip_frame', 'nokey']);
    expect(at('-skip_frame')).toBeLessThan(at('-i'));
    const filters = args.filter((_a, i) => args[i - 1] === '-filter:v' || args[i - 1] === '-filter:a');
    expect(filters[0]).toContain('blackdetect=d=0:pic_th=0.98:pix_th=0.1');
    expect(filters[0]).toContain('freezedetect=n=-60dB:d=5');
    expect(filters[0]).toContain('scale=160:-2');
    expect(filters[1]).toBe('silencedetect=n=-50dB:d=1');
    expect(filters[2]).toContain('scale=320:-2');
    expect(args.slice(-7)).toEqual([
      '-f',
      'image2',
      '-update',
      '1',
      '-atomic_writing',
      '1',
      '/pp/thumbnail.jpg',
    ]);
    expect(args).toContain('-nostdin');
  });

  it('an audio-only stream gets no picture filters and no thumbnail', () => {
    const args = monitorArgs('in', 'thumb.jpg', { hasVideo: false, hasAudio: true });
    expect(args.join(' ')).not.toMatch(/blackdetect|image2|thumb\.jpg/);
    expect(args).toContain('silencedetect=n=-50dB:d=1');
  });

  it('watches the session feeding the origin, stream 1 first', () => {
    const s = (sessionId: string, feeding: boolean, streamIndex: number, metadata = {}) => ({
      sessionId,
      internalPath: `/kLive/${sessionId}`,
      feeding,
      request: { streamIndex },
      metadata,
    });
    expect(monitorSource([s('a', false, 1), s('b', true, 2), s('c', true, 1)])).toEqual({
      sessionId: 'c',
      internalPath: '/kLive/c',
      hasVideo: true,
      hasAudio: true,
    });
    expect(monitorSource([s('a', false, 1)])).toBeUndefined();
    expect(monitorSource([s('v', true, 1, { width: 640, videocodecidstring: 'avc1' })])).toMatchObject({
      hasVideo: true,
      hasAudio: false,
    });
  });
});
