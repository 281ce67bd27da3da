/** The archive timeline's arithmetic: the visible span, fitting, zoom, pan, tick marks and gaps. */
import type { ArchiveView, TrackRangeView } from '@contract';

/** The visible span, ms since epoch. */
export interface Span {
  start: number;
  end: number;
}

export const MIN_SPAN_MS = 5_000;
export const MAX_SPAN_MS = 14 * 24 * 3600_000;

function clampSpan(s: Span): Span {
  const width = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, s.end - s.start));
  const mid = (s.start + s.end) / 2;
  return { start: mid - width / 2, end: mid + width / 2 };
}

/** Everything there is to see: every range, the DVR window and now, with a margin. */
export function fitSpan(archive: ArchiveView | null, now: number): Span {
  let start = Number.POSITIVE_INFINITY;
  let end = now;
  for (const t of archive?.tracks ?? [])
    for (const r of t.ranges) {
      start = Math.min(start, Date.parse(r.start));
      end = Math.max(end, Date.parse(r.end));
    }
  const dvrStart = archive?.dvrWindow.start ? Date.parse(archive.dvrWindow.start) : Number.NaN;
  if (Number.isFinite(dvrStart)) start = Math.min(start, dvrStart);
  if (!Number.isFinite(start)) start = now - 5 * 60_000;
  // At least 30 s wide, widened into the past so that "now" stays at the right.
  const width = Math.max(30_000, end - start);
  const margin = width * 0.04;
  return clampSpan({ start: end - width - margin, end: end + margin });
}

/** Zooms by `factor` (< 1 in, > 1 out) keeping `anchor` (ms) where it is on screen. */
export function zoomSpan(s: Span, factor: number, anchor = (s.start + s.end) / 2): Span {
  const width = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, (s.end - s.start) * factor));
  const ratio = (anchor - s.start) / (s.end - s.start);
  const start = anchor - width * ratio;
  return { start, end: start + width };
}

/** Moves by a fraction of the visible width (negative: back in time). */
export function panSpan(s: Span, fraction: number): Span {
  const d = (s.end - s.start) * fraction;
  return { start: s.start + d, end: s.end + d };
}

const STEPS_MS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
].map((s) => s * 1000);

/** Tick marks about every `minPx` pixels, on round local times. */
export function ticks(s: Span, widthPx: number, minPx = 90): number[] {
  const per = ((s.end - s.start) / Math.max(1, widthPx)) * minPx;
  const step = STEPS_MS.find((x) => x >= per) ?? 86_400_000;
  const offset = new Date(s.start).getTimezoneOffset() * 60_000;
  const first = Math.ceil((s.start - offset) / step) * step + offset;
  const out: number[] = [];
  for (let t = first; t <= s.end && out.length < 200; t += step) out.push(t);
  return out;
}

/** A tick's label: seconds shown only when the step is under a minute. */
export function tickLabel(t: number, s: Span, widthPx: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  const perPx = (s.end - s.start) / Math.max(1, widthPx);
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  return perPx * 90 < 60_000 ? `${hm}:${p(d.getSeconds())}` : hm;
}

/** The holes between consecutive ranges of one track. */
export function gapsOf(ranges: TrackRangeView[]): Span[] {
  const sorted = ranges
    .map((r) => ({ start: Date.parse(r.start), end: Date.parse(r.end) }))
    .sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as Span;
    const cur = sorted[i] as Span;
    if (cur.start > prev.end) out.push({ start: prev.end, end: cur.start });
  }
  return out;
}
