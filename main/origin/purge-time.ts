/**
 * The `t` of `POST <pp>.isml/purge?t=...` (seed `002_4a6cb437b41434f0.txt`, "Purge part of an archive"):
 * - `HH:MM:SS` alone: keep that much archive, delete everything older (`02:00:00`, `48:00:00`; hours
 *   may exceed 24);
 * - `<start>-<end>`: delete that range, each end an offset `HH:MM:SS` from the presentation's start
 *   (`00:00:00-00:02:30`) or an ISO 8601 UTC time with or without the trailing `Z`
 *   (`1970-01-01T13:16:03.44-1970-01-01T13:21:57.124535`).
 * Seconds may carry a fraction of up to 6 digits (µs); minutes and seconds must be < 60.
 */

/** An end of a purge range: seconds from the presentation's start, or a UTC time (ms since epoch, may have a fraction: µs precision). */
export type TimeRef = { kind: 'offset'; seconds: number } | { kind: 'utc'; ms: number };

export type PurgeSpec = { kind: 'keep'; seconds: number } | { kind: 'range'; start: TimeRef; end: TimeRef };

export class PurgeTimeError extends Error {
  readonly code = 'PURGE_TIME_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'PurgeTimeError';
  }
}

const EXPECTED =
  'expected HH:MM:SS (the archive to keep) or <start>-<end>, each an HH:MM:SS offset or an ISO 8601 UTC time ' +
  'YYYY-MM-DDTHH:MM:SS[.ffffff][Z]';

/** Shapes only; the values are checked afterwards, to say precisely what is wrong. */
const OFFSET_SHAPE = /^(\d+):(\d+):(\d+)(?:\.(\d+))?$/;
const UTC_SHAPE = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?(Z?)$/;

/** A time reference with its value in integer microseconds, for exact comparisons. */
type Parsed = { ref: TimeRef; micros: number };

const looksLikeTime = (s: string): boolean => OFFSET_SHAPE.test(s) || UTC_SHAPE.test(s);

function fractionMicros(fraction: string | undefined, token: string): number {
  if (fraction === undefined) return 0;
  if (fraction.length > 6) {
    throw new PurgeTimeError(
      `'${token}': at most 6 fractional digits of a second (microseconds) are allowed`,
    );
  }
  return Number(fraction.padEnd(6, '0'));
}

function checkMinutesSeconds(minutes: number, seconds: number, token: string): void {
  if (minutes >= 60) throw new PurgeTimeError(`'${token}': minutes must be 00-59`);
  if (seconds >= 60) throw new PurgeTimeError(`'${token}': seconds must be 00-59`);
}

function parseTime(token: string): Parsed {
  const off = OFFSET_SHAPE.exec(token);
  if (off) {
    const [, h = '', m = '', s = '', f] = off;
    if (m.length !== 2 || s.length !== 2) throw new PurgeTimeError(`'${token}': expected HH:MM:SS`);
    checkMinutesSeconds(Number(m), Number(s), token);
    const micros = (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1_000_000 + fractionMicros(f, token);
    if (!Number.isSafeInteger(micros)) throw new PurgeTimeError(`'${token}': the time is too large`);
    return { ref: { kind: 'offset', seconds: micros / 1_000_000 }, micros };
  }
  const utc = UTC_SHAPE.exec(token);
  if (utc) {
    const [, y = '', mo = '', d = '', h = '', mi = '', s = '', f] = utc;
    if (y.length !== 4 || [mo, d, h, mi, s].some((part) => part.length !== 2)) {
      throw new PurgeTimeError(`'${token}': expected an ISO 8601 time YYYY-MM-DDTHH:MM:SS[.ffffff][Z]`);
    }
    const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    // setUTCFullYear, not Date.UTC: the latter maps years 0-99 to 1900-1999.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    if (
      month < 1 ||
      month > 12 ||
      date.getUTCFullYear() !== year ||
      date.getUTCMonth() !== month - 1 ||
      date.getUTCDate() !== day
    ) {
      throw new PurgeTimeError(`'${token}': ${y}-${mo}-${d} is not a valid date`);
    }
    if (hour >= 24) throw new PurgeTimeError(`'${token}': hours must be 00-23`);
    checkMinutesSeconds(minute, second, token);
    date.setUTCHours(hour, minute, second, 0);
    const fraction = fractionMicros(f, token);
    return {
      ref: { kind: 'utc', ms: date.getTime() + fraction / 1000 },
      micros: date.getTime() * 1000 + fraction,
    };
  }
  throw new PurgeTimeError(`'${token}' is not a time: ${EXPECTED}`);
}

/**
 * Parses the `t` of a purge request.
 * @throws PurgeTimeError missing/empty, not one of the forms, negative, a field out of range (minutes
 *   or seconds >= 60, an invalid date), or a range whose start is after its end (when both ends are of
 *   the same kind; {@link resolvePurgeRange} checks mixed ranges).
 */
export function parsePurgeTime(t: string | undefined): PurgeSpec {
  const value = t?.trim() ?? '';
  if (value === '') throw new PurgeTimeError(`the purge time t is missing: ${EXPECTED}`);
  if (value.startsWith('-') || value.includes('--')) {
    throw new PurgeTimeError(`'${value}': negative times are not allowed`);
  }

  if (looksLikeTime(value)) {
    const { ref } = parseTime(value);
    if (ref.kind !== 'offset') {
      throw new PurgeTimeError(`'${value}': a single time is the duration to keep and must be HH:MM:SS`);
    }
    return { kind: 'keep', seconds: ref.seconds };
  }

  // `<start>-<end>`: the dates' own dashes make `-` ambiguous; the separator is the one dash where
  // both sides have the shape of a time (an ISO date's inner dashes leave e.g. "1970" on the left).
  let split: [string, string] | undefined;
  for (let i = value.indexOf('-'); i !== -1; i = value.indexOf('-', i + 1)) {
    const left = value.slice(0, i);
    const right = value.slice(i + 1);
    if (looksLikeTime(left) && looksLikeTime(right)) {
      split = [left, right];
      break;
    }
  }
  if (split === undefined) throw new PurgeTimeError(`'${value}' is not a purge time: ${EXPECTED}`);
  const start = parseTime(split[0]);
  const end = parseTime(split[1]);
  if (start.ref.kind === end.ref.kind && start.micros > end.micros) {
    throw new PurgeTimeError(`'${value}': the start of the range is after its end`);
  }
  return { kind: 'range', start: start.ref, end: end.ref };
}

/**
 * Resolves a range against the presentation: offsets are seconds from `presentationStart` (ms since
 * epoch), UTC times are taken as they are. Returns [startMs, endMs).
 * @throws PurgeTimeError the resolved start is after the resolved end.
 */
export function resolvePurgeRange(
  spec: Extract<PurgeSpec, { kind: 'range' }>,
  presentationStart: number,
): { start: number; end: number } {
  if (!Number.isFinite(presentationStart)) throw new RangeError(`not a time: ${presentationStart}`);
  const toMs = (ref: TimeRef): number =>
    ref.kind === 'utc' ? ref.ms : presentationStart + ref.seconds * 1000;
  const start = toMs(spec.start);
  const end = toMs(spec.end);
  if (start > end) throw new PurgeTimeError('the start of the purge range is after its end');
  return { start, end };
}
