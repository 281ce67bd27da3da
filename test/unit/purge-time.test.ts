import { describe, expect, it } from 'vitest';
import {
  parsePurgeTime,
  PurgeTimeError,
  resolvePurgeRange,
  type PurgeSpec,
} from '../../main/origin/purge-time.js';

const utcMs = (y: number, mo: number, d: number, h: number, mi: number, s: number, micros = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s) + micros / 1000;

function range(t: string): Extract<PurgeSpec, { kind: 'range' }> {
  const spec = parsePurgeTime(t);
  if (spec.kind !== 'range') throw new Error(`not a range: ${t}`);
  return spec;
}

function expectInvalid(t: string | undefined, message?: RegExp): void {
  try {
    parsePurgeTime(t);
  } catch (e) {
    expect(e).toBeInstanceOf(PurgeTimeError);
    expect((e as PurgeTimeError).code).toBe('PURGE_TIME_INVALID');
    if (message) expect((e as PurgeTimeError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a PurgeTimeError for ${JSON.stringify(t)}`);
}

describe('parsePurgeTime: the seed examples', () => {
  it('00:00:00-00:02:30 removes the first 2.5 minutes', () => {
    expect(parsePurgeTime('00:00:00-00:02:30')).toEqual({
      kind: 'range',
      start: { kind: 'offset', seconds: 0 },
      end: { kind: 'offset', seconds: 150 },
    });
  });

  it('02:00:00 keeps 2 hours', () => {
    expect(parsePurgeTime('02:00:00')).toEqual({ kind: 'keep', seconds: 7200 });
  });

  it('48:00:00 keeps 2 days (hours beyond 24)', () => {
    expect(parsePurgeTime('48:00:00')).toEqual({ kind: 'keep', seconds: 172800 });
  });

  it('1970-01-01T13:16:03.44-1970-01-01T13:21:57.124535 is a range of UTC times without Z', () => {
    const spec = range('1970-01-01T13:16:03.44-1970-01-01T13:21:57.124535');
    expect(spec.start).toEqual({ kind: 'utc', ms: utcMs(1970, 1, 1, 13, 16, 3, 440000) });
    expect(spec.end.kind).toBe('utc');
    if (spec.end.kind !== 'utc') return;
    expect(spec.end.ms).toBeCloseTo(utcMs(1970, 1, 1, 13, 21, 57, 124535), 6);
    expect(spec.end.ms).toBeCloseTo(48_117_124.535, 6);
  });
});

describe('parsePurgeTime: other accepted forms', () => {
  it('ISO times with Z, on either or both ends', () => {
    expect(range('2015-05-06T01:00:00Z-2015-05-06T02:00:00.5Z')).toEqual({
      kind: 'range',
      start: { kind: 'utc', ms: utcMs(2015, 5, 6, 1, 0, 0) },
      end: { kind: 'utc', ms: utcMs(2015, 5, 6, 2, 0, 0) + 500 },
    });
    expect(range('2015-05-06T01:00:00-2015-05-06T02:00:00Z').end).toEqual({
      kind: 'utc',
      ms: utcMs(2015, 5, 6, 2, 0, 0),
    });
  });

  it('fractional seconds of 1 to 6 digits', () => {
    expect(parsePurgeTime('00:00:01.5')).toEqual({ kind: 'keep', seconds: 1.5 });
    expect(parsePurgeTime('00:00:00.000001')).toEqual({ kind: 'keep', seconds: 0.000001 });
    expect(range('00:00:01.5-00:01:00.25')).toEqual({
      kind: 'range',
      start: { kind: 'offset', seconds: 1.5 },
      end: { kind: 'offset', seconds: 60.25 },
    });
    expect(range('2024-02-29T23:59:59.9-2024-03-01T00:00:00').start).toEqual({
      kind: 'utc',
      ms: utcMs(2024, 2, 29, 23, 59, 59) + 900,
    });
  });

  it('a single-digit or long hours field, a zero keep, an empty range, surrounding spaces', () => {
    expect(parsePurgeTime('2:00:00')).toEqual({ kind: 'keep', seconds: 7200 });
    expect(parsePurgeTime('1000:00:00')).toEqual({ kind: 'keep', seconds: 3_600_000 });
    expect(parsePurgeTime('00:00:00')).toEqual({ kind: 'keep', seconds: 0 });
    expect(parsePurgeTime('00:01:00-00:01:00').kind).toBe('range');
    expect(parsePurgeTime(' 02:00:00 ')).toEqual({ kind: 'keep', seconds: 7200 });
  });

  it('a range mixing an offset and a UTC time', () => {
    expect(range('00:00:10-2015-05-06T02:00:00Z')).toEqual({
      kind: 'range',
      start: { kind: 'offset', seconds: 10 },
      end: { kind: 'utc', ms: utcMs(2015, 5, 6, 2, 0, 0) },
    });
  });
});

describe('parsePurgeTime: refused', () => {
  it.each<[string, string | undefined, RegExp]>([
    ['missing', undefined, /missing/],
    ['empty', '', /missing/],
    ['blank', '   ', /missing/],
    ['garbage', 'yesterday', /not a purge time|not a time/],
    ['plain seconds', '7200', /not a/],
    ['HH:MM only', '02:00', /not a/],
    ['a dangling dash', '00:00:00-', /not a purge time/],
    ['three times', '00:00:00-00:01:00-00:02:00', /not a purge time/],
    ['a negative keep', '-02:00:00', /negative/],
    ['a negative end', '00:00:10--00:00:05', /negative/],
    ['start after end (offsets)', '00:02:30-00:00:00', /start .* after .* end/],
    ['start after end (UTC)', '1970-01-01T13:21:57-1970-01-01T13:16:03.44', /start .* after .* end/],
    ['minutes of 60', '00:60:00', /minutes/],
    ['seconds of 60', '00:00:60', /seconds/],
    ['minutes of 60 in a range', '00:00:00-01:75:00', /minutes/],
    ['single-digit minutes', '00:5:00', /HH:MM:SS/],
    ['7 fractional digits', '00:00:01.1234567', /6 fractional digits/],
    ['an empty fraction', '00:00:01.', /not a/],
    ['month 13', '2015-13-40T00:00:00-2015-13-41T00:00:00', /not a valid date/],
    ['day 40', '2015-05-40T00:00:00-2015-05-41T00:00:00', /not a valid date/],
    ['Feb 29 of a common year', '2015-02-29T00:00:00-2015-03-01T00:00:00', /not a valid date/],
    ['hour 24 of a UTC time', '2015-05-06T24:00:00-2015-05-07T01:00:00', /hours/],
    ['UTC minutes of 60', '2015-05-06T01:60:00-2015-05-06T02:00:00', /minutes/],
    ['a short year', '15-05-06T01:00:00-15-05-06T02:00:00', /ISO 8601/],
    ['a time zone offset', '2015-05-06T01:00:00+01:00-2015-05-06T02:00:00+01:00', /not a purge time/],
    ['a date without a time', '2015-05-06-2015-05-07', /not a purge time/],
    ['a single UTC time', '2015-05-06T01:00:00Z', /HH:MM:SS/],
  ])('%s: %j', (_what, t, message) => {
    expectInvalid(t, message);
  });
});

describe('resolvePurgeRange', () => {
  const start = utcMs(2015, 5, 6, 1, 0, 0);

  it('offsets count from the presentation start', () => {
    expect(resolvePurgeRange(range('00:00:00-00:02:30'), start)).toEqual({ start, end: start + 150_000 });
    expect(resolvePurgeRange(range('00:00:01.5-01:00:00'), start)).toEqual({
      start: start + 1500,
      end: start + 3_600_000,
    });
  });

  it('UTC times are taken as they are', () => {
    const r = resolvePurgeRange(range('1970-01-01T13:16:03.44-1970-01-01T13:21:57.124535'), start);
    expect(r.start).toBe(47_763_440);
    expect(r.end).toBeCloseTo(utcMs(1970, 1, 1, 13, 21, 57, 124535), 6);
  });

  it('a mixed range resolves both ends', () => {
    expect(resolvePurgeRange(range('00:00:10-2015-05-06T02:00:00Z'), start)).toEqual({
      start: start + 10_000,
      end: utcMs(2015, 5, 6, 2, 0, 0),
    });
  });

  it('refuses a mixed range whose start resolves after its end', () => {
    const spec = range('02:00:00-2015-05-06T02:00:00Z');
    expect(() => resolvePurgeRange(spec, start)).toThrow(PurgeTimeError);
    expect(() => resolvePurgeRange(spec, start)).toThrow(/after its end/);
  });
});
