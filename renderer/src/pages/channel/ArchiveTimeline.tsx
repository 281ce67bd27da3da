import { useEffect, useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { ArchiveView } from '@contract';
import { useWidth } from '../../components/useWidth.js';
import { formatBitrate, formatDuration, formatTime } from '../../format.js';
import { gapsOf, panSpan, tickLabel, ticks, zoomSpan, type Span } from './timeline-scale.js';

const LABEL_W = 200;
const AXIS_H = 28;
const ROW_H = 26;
const ROW_GAP = 6;
const RIGHT_PAD = 12;

type Drag =
  | { kind: 'pan'; x0: number; span0: Span; pointerId: number }
  | { kind: 'select'; t0: number; x0: number; pointerId: number };

export interface ArchiveTimelineProps {
  archive: ArchiveView;
  now: number;
  span: Span;
  /** A new visible span chosen by the user (zoom or pan). */
  onSpan: (span: Span) => void;
  /** Back to "show everything, follow now". */
  onFit: () => void;
  selection: Span | null;
  onSelection: (s: Span | null) => void;
}

/**
 * The archive drawn over time: one row per track with its ranges (coloured by the ingest that fed them) and
 * the gaps between, the DVR window shaded, a "now" line. Wheel or buttons zoom; dragging the time axis (or
 * Shift+drag) pans; dragging over the tracks selects a range; arrow keys pan and +/- zoom when focused.
 */
export function ArchiveTimeline({
  archive,
  now,
  span,
  onSpan,
  onFit,
  selection,
  onSelection,
}: ArchiveTimelineProps) {
  const box = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const drag = useRef<Drag | null>(null);
  const width = useWidth(box);
  const plotW = Math.max(50, width - LABEL_W - RIGHT_PAD);
  const height = AXIS_H + archive.tracks.length * (ROW_H + ROW_GAP) + ROW_GAP;
  const x = (t: number) => LABEL_W + ((t - span.start) / (span.end - span.start)) * plotW;
  const timeAt = (px: number) => span.start + ((px - LABEL_W) / plotW) * (span.end - span.start);
  const localX = (clientX: number) => clientX - (svg.current?.getBoundingClientRect().left ?? 0);

  // The wheel zooms around the pointer; React's wheel handlers are passive, so listen natively.
  const latest = useRef({ span, onSpan, timeAt });
  latest.current = { span, onSpan, timeAt };
  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const { span: s, onSpan: set, timeAt: at } = latest.current;
      const px = e.clientX - el.getBoundingClientRect().left;
      const anchor = px > LABEL_W ? at(px) : (s.start + s.end) / 2;
      set(zoomSpan(s, e.deltaY > 0 ? 1.25 : 0.8, anchor));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const onPointerDown = (e: PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0) return;
    const px = localX(e.clientX);
    const py = e.clientY - (svg.current?.getBoundingClientRect().top ?? 0);
    e.currentTarget.setPointerCapture(e.pointerId);
    if (py < AXIS_H || e.shiftKey || px < LABEL_W) {
      drag.current = { kind: 'pan', x0: px, span0: span, pointerId: e.pointerId };
    } else {
      drag.current = { kind: 'select', t0: timeAt(px), x0: px, pointerId: e.pointerId };
    }
  };
  const onPointerMove = (e: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId) return;
    const px = localX(e.clientX);
    if (d.kind === 'pan') {
      const dt = ((px - d.x0) / plotW) * (d.span0.end - d.span0.start);
      onSpan({ start: d.span0.start - dt, end: d.span0.end - dt });
    } else if (Math.abs(px - d.x0) >= 3) {
      const t = timeAt(px);
      onSelection({ start: Math.min(d.t0, t), end: Math.max(d.t0, t) });
    }
  };
  const onPointerUp = (e: PointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.pointerId !== e.pointerId) return;
    if (d.kind === 'select' && Math.abs(localX(e.clientX) - d.x0) < 3) onSelection(null);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => onSpan(panSpan(span, -0.2)),
      ArrowRight: () => onSpan(panSpan(span, 0.2)),
      '+': () => onSpan(zoomSpan(span, 0.8)),
      '=': () => onSpan(zoomSpan(span, 0.8)),
      '-': () => onSpan(zoomSpan(span, 1.25)),
      '0': onFit,
      Home: onFit,
      Escape: () => onSelection(null),
    };
    const act = actions[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  };

  const dvrStart = archive.dvrWindow.start ? Date.parse(archive.dvrWindow.start) : null;
  const dvrEnd = archive.dvrWindow.end ? Date.parse(archive.dvrWindow.end) : null;
  const rectX = (a: number, b: number) => {
    const x0 = x(a);
    return { x: x0, width: Math.max(1.5, x(b) - x0) };
  };
  const bottom = height - ROW_GAP;

  return (
    <div
      ref={box}
      className="timeline"
      tabIndex={0}
      role="group"
      aria-label="Archive timeline"
      aria-describedby="timeline-help"
      data-testid="archive-timeline"
      onKeyDown={onKeyDown}
    >
      <svg
        ref={svg}
        width={width}
        height={height}
        className="timeline-svg"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (drag.current = null)}
        aria-hidden="true"
      >
        <defs>
          <clipPath id="timeline-plot">
            <rect x={LABEL_W} y={0} width={plotW} height={height} />
          </clipPath>
          <pattern
            id="gap-hatch"
            width="6"
            height="6"
            patternUnits="userSpaceOnUse"
            patternTransform="rotate(45)"
          >
            <rect width="6" height="6" className="gap-bg" />
            <line x1="0" y1="0" x2="0" y2="6" className="gap-line" />
          </pattern>
        </defs>
        <rect className="axis-bg" x={LABEL_W} y={0} width={plotW} height={AXIS_H} />
        <g clipPath="url(#timeline-plot)">
          {ticks(span, plotW).map((t) => (
            <g key={t}>
              <line className="tick" x1={x(t)} x2={x(t)} y1={AXIS_H - 6} y2={bottom} />
              <text className="tick-label" x={x(t) + 3} y={AXIS_H - 10}>
                {tickLabel(t, span, plotW)}
              </text>
            </g>
          ))}
        </g>
        {archive.tracks.map((track, i) => {
          const y = AXIS_H + ROW_GAP + i * (ROW_H + ROW_GAP);
          return (
            <g key={track.trackName} data-testid="archive-track" data-track={track.trackName}>
              <text className="track-label" x={8} y={y + ROW_H / 2 + 4}>
                <title>
                  {track.trackName} ({track.kind}
                  {track.bitrate ? `, ${formatBitrate(track.bitrate)}` : ''})
                </title>
                {track.trackName.startsWith(track.kind)
                  ? track.trackName
                  : `${track.trackName} · ${track.kind}`}
                {track.bitrate ? ` · ${formatBitrate(track.bitrate)}` : ''}
              </text>
              <rect className="row-bg" x={LABEL_W} y={y} width={plotW} height={ROW_H} />
              <g clipPath="url(#timeline-plot)">
                {gapsOf(track.ranges).map((g) => (
                  <rect
                    key={`gap-${g.start}`}
                    className="gap"
                    data-testid="archive-gap"
                    y={y + 4}
                    height={ROW_H - 8}
                    {...rectX(g.start, g.end)}
                  >
                    <title>gap of {formatDuration(g.end - g.start)}</title>
                  </rect>
                ))}
                {track.ranges.map((r) => {
                  const a = Date.parse(r.start);
                  const b = Date.parse(r.end);
                  return (
                    <rect
                      key={r.start}
                      className={`range range-${r.ingest}`}
                      data-testid="archive-range"
                      data-start={r.start}
                      data-end={r.end}
                      y={y + 2}
                      height={ROW_H - 4}
                      {...rectX(a, b)}
                    >
                      <title>
                        {r.ingest}: {formatTime(a)} – {formatTime(b)} ({formatDuration(b - a)})
                      </title>
                    </rect>
                  );
                })}
              </g>
            </g>
          );
        })}
        <g clipPath="url(#timeline-plot)">
          {dvrStart !== null && dvrEnd !== null ? (
            <rect
              className="dvr"
              data-testid="dvr-window"
              y={AXIS_H}
              height={bottom - AXIS_H}
              {...rectX(dvrStart, dvrEnd)}
            >
              <title>DVR window ({formatDuration(dvrEnd - dvrStart)})</title>
            </rect>
          ) : null}
          {selection ? (
            <rect
              className="selection"
              data-testid="archive-selection"
              y={AXIS_H}
              height={bottom - AXIS_H}
              {...rectX(selection.start, selection.end)}
            />
          ) : null}
          <line className="now" data-testid="now-line" x1={x(now)} x2={x(now)} y1={AXIS_H - 4} y2={bottom} />
          <text className="now-label" x={x(now) - 4} y={AXIS_H - 12} textAnchor="end">
            now
          </text>
        </g>
      </svg>
      <p id="timeline-help" className="muted small">
        Drag over the tracks to select a range; drag the time axis (or Shift+drag) to pan; the wheel zooms.
        With the timeline focused: ← → pan, + − zoom, 0 shows everything, Esc clears the selection.
      </p>
    </div>
  );
}
