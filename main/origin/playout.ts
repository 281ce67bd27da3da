/**
 * Playout control on the manifest URLs (`.m3u8`, `tracks/<name>.m3u8`, `.mpd`), as Unified Streaming
 * offers it:
 * - `dvr_window_length=N`: a shorter DVR window (seconds; capped by the publishing point's).
 * - `time_shift=N`: the live point moved N seconds back; the presentation stays live.
 * - `vbegin=<time>&vend=<time>`: a virtual subclip, a fixed range of the archive as a VOD presentation.
 *   Times are ISO 8601 (`2024-05-01T10:00:00Z`; without a zone = UTC; fractions and `±hh:mm` offsets
 *   allowed) or epoch seconds (`1714557600`, `1714557600.5`). Without vend: up to the live edge;
 *   without vbegin: from the start of the archive.
 *
 * {@link parsePlayout} reads the query; {@link playoutPresentation} cuts the presentation to it.
 */
import type { PresentationView } from './manifest-model.js';
import { livePresentation, vodPresentation } from './presentation.js';
import type { PublishingPointRecord, SegmentIndex } from './segment-index.js';

export type Playout =
  /** Seconds. */
  | { kind: 'live'; dvrWindow?: number; timeShift?: number }
  /** Ms since epoch, from < to; `from` 0 = from the start of the archive, `to` Infinity = up to the live edge. */
  | { kind: 'vod'; from: number; to: number };

/** A playout query the origin cannot serve: an HTTP 400 with this message. */
export class PlayoutError extends Error {
  readonly code = 'PLAYOUT_INVALID';
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'PlayoutError';
  }
}

export type PlayoutQuery = Record<string, string | string[] | undefined>;

/** Latest time accepted: 9999-12-31T23:59:59Z, in epoch seconds (a larger number is likely milliseconds). */
const MAX_EPOCH_SECONDS = 253_402_300_799;
const TIME_FORMS = 'ISO 8601 (2024-05-01T10:00:00Z) or epoch seconds (1714557600)';

/**
 * Reads `dvr_window_length`, `time_shift`, `vbegin` and `vend` from a query object (other parameters
 * are ignored). Throws a {@link PlayoutError} naming the parameter at fault.
 */
export function parsePlayout(query: PlayoutQuery): Playout {
  const dvr = single(query, 'dvr_window_length');
  const shift = single(query, 'time_shift');
  const vbegin = single(query, 'vbegin');
  const vend = single(query, 'vend');

  if (vbegin !== undefined || vend !== undefined) {
    const given = [vbegin !== undefined && 'vbegin', vend !== undefined && 'vend'].filter(Boolean).join('/');
    if (shift !== undefined)
      throw new PlayoutError(`time_shift cannot be combined with ${given}: a subclip is a fixed time range`);
    if (dvr !== undefined)
      throw new PlayoutError(
        `dvr_window_length cannot be combined with ${given}: it sets the live window, a subclip is a fixed time range`,
      );
    const from = vbegin !== undefined ? parseTime('vbegin', vbegin) : 0;
    const to = vend !== undefined ? parseTime('vend', vend) : Infinity;
    if (!(from < to)) {
      throw new PlayoutError(
        vbegin !== undefined
          ? `vbegin (${iso(from)}) must be before vend (${iso(to)})`
          : `vend (${iso(to)}) must be after the start of the archive`,
      );
    }
    return { kind: 'vod', from, to };
  }

  const playout: Playout = { kind: 'live' };
  if (dvr !== undefined) {
    const n = parseSeconds(dvr);
    if (n === undefined || n <= 0)
      throw new PlayoutError(`dvr_window_length must be a number of seconds > 0, got '${dvr}'`);
    playout.dvrWindow = n;
  }
  if (shift !== undefined) {
    const n = parseSeconds(shift);
    if (n === undefined)
      throw new PlayoutError(`time_shift must be a number of seconds >= 0, got '${shift}'`);
    playout.timeShift = n;
  }
  return playout;
}

/**
 * The presentation for a playout:
 * - live: the DVR window (capped by the publishing point's `dvr_window_length`) ending `timeShift`
 *   seconds before the live edge, never reaching before the oldest fragment; still `live` while the
 *   encoder runs.
 * - vod: the fragments whose start lies in [from, to), whole, as a static VOD presentation.
 *
 * Every track is cut at the same times. `null`: the window or range holds no fragment (a 404).
 */
export function playoutPresentation(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  playout: Playout,
  opts: { urlSuffix?: string; now?: number } = {},
): (PresentationView & { complete: boolean }) | null {
  check(playout);
  if (playout.kind === 'vod') checkSubclipSize(index, pp, playout);
  const view =
    playout.kind === 'live'
      ? livePresentation(index, pp, {
          dvrWindow: playout.dvrWindow,
          timeShift: playout.timeShift,
          urlSuffix: opts.urlSuffix,
          now: opts.now,
        })
      : vodPresentation(index, pp, playout, opts);
  return view.tracks.length > 0 ? view : null;
}

/**
 * The most fragments per track a subclip may list (2 hours of 2 s fragments): a whole 24-hour archive asked for
 * with `?vbegin=0` would otherwise hold the only event loop for most of a second and answer megabytes.
 */
export const MAX_SUBCLIP_FRAGMENTS = 3600;

/** A 400 for a subclip longer than {@link MAX_SUBCLIP_FRAGMENTS}, counted on the index before anything is read. */
function checkSubclipSize(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  range: { from: number; to: number },
): void {
  for (const t of index.tracks(pp.name)) {
    const n = index.countFragmentsStartingBetween(t.id, range.from, range.to);
    if (n > MAX_SUBCLIP_FRAGMENTS) {
      throw new PlayoutError(
        `the subclip holds ${n} fragments of ${t.trackName}, more than ${MAX_SUBCLIP_FRAGMENTS}: give vbegin and vend closer together (or export the range as MP4)`,
      );
    }
  }
}

/** A playout built by hand gets the checks parsePlayout makes. */
function check(p: Playout): void {
  if (p.kind === 'vod') {
    if (Number.isNaN(p.from) || Number.isNaN(p.to) || !(p.from < p.to))
      throw new PlayoutError(`the subclip must end after it begins (${p.from} .. ${p.to})`);
    return;
  }
  if (p.dvrWindow !== undefined && !(p.dvrWindow > 0 && Number.isFinite(p.dvrWindow)))
    throw new PlayoutError(`dvr_window_length must be a number of seconds > 0, got ${p.dvrWindow}`);
  if (p.timeShift !== undefined && !(p.timeShift >= 0 && Number.isFinite(p.timeShift)))
    throw new PlayoutError(`time_shift must be a number of seconds >= 0, got ${p.timeShift}`);
}

/** A parameter's one value; undefined when absent. Given twice (`?a=1&a=2`) is an error, not a guess. */
function single(query: PlayoutQuery, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length > 1) throw new PlayoutError(`${name} is given ${v.length} times; give it once`);
    return v[0] === undefined ? undefined : nonEmpty(name, v[0]);
  }
  return nonEmpty(name, v);
}

function nonEmpty(name: string, v: string): string {
  if (v.trim() === '') throw new PlayoutError(`${name} is empty`);
  return v;
}

/** A non-negative decimal number of seconds ("30", "2.5"); undefined when it is not one. */
function parseSeconds(v: string): number | undefined {
  if (!/^\d+(?:\.\d+)?$/.test(v.trim())) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+\- ])(\d{2})(?::?(\d{2}))?)?)?$/;

/** vbegin/vend to ms since epoch. */
function parseTime(name: string, value: string): number {
  const v = value.trim();
  const invalid = (why: string): PlayoutError =>
    new PlayoutError(`${name} '${value}' ${why}: use ${TIME_FORMS}`);

  if (/^\d+(?:\.\d+)?$/.test(v)) {
    const seconds = Number(v);
    if (!(seconds <= MAX_EPOCH_SECONDS))
      throw invalid('is out of range (epoch times are seconds, not milliseconds)');
    return seconds * 1000;
  }
  const m = ISO_8601.exec(v);
  if (!m) throw invalid('is not a valid time');
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, , sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1970) throw invalid('is before 1970');
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59)
    throw invalid('is not a valid time of day');
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    throw invalid('is not a valid date');
  // A '+' sent unencoded in a query string arrives as a space.
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return (
    date.getTime() +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    (frac ? Number(`0.${frac}`) * 1000 : 0)
  );
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
