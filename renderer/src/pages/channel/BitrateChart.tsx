import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StatisticsSample } from '@contract';
import { formatBitrate, formatTime } from '../../format.js';
import { outputNames, renditionBitrate } from '../../state/statistics-store.js';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const HEIGHT = 220;

interface Line {
  key: string;
  label: string;
  value: (s: StatisticsSample, previous: StatisticsSample | undefined) => number | null;
}

/**
 * What is charted: one line per output rendition (source, 720p, 360p, audio) as written, from the samples'
 * `outputs`; samples without outputs (an older core) chart each transcoder's bitrate instead.
 */
function linesOf(samples: readonly StatisticsSample[]): Line[] {
  const outputs = outputNames(samples);
  if (outputs.length > 0) {
    return outputs.map(({ trackName, label }) => ({
      key: trackName,
      label,
      value: (s) => s.outputs?.find((o) => o.trackName === trackName)?.bitrate ?? null,
    }));
  }
  const names = new Set<string>();
  for (const s of samples) for (const r of s.renditions) names.add(r.streamName);
  return [...names].sort().map((n) => ({
    key: n,
    label: n,
    value: (s, previous) => renditionBitrate(s, n, previous),
  }));
}

/** Bitrate over time per rendition (uPlot), from zero, fed by the history and the `statistics` events. */
export function BitrateChart({ samples, now }: { samples: readonly StatisticsSample[]; now: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const lines = useMemo(() => linesOf(samples), [samples]);
  const linesKey = lines.map((l) => `${l.key}=${l.label}`).join('|');
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs = samples.map((s) => Date.parse(s.at) / 1000);
    // Charted in kbit/s (the axis reads better); the legend formats the value.
    const series = lines.map((l) =>
      samples.map((s, i) => {
        const b = l.value(s, i > 0 ? samples[i - 1] : undefined);
        return b === null ? null : b / 1000;
      }),
    );
    return [xs, ...series];
  }, [samples, lines]);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const labels = linesKey
      .split('|')
      .filter(Boolean)
      .map((kv) => kv.slice(kv.indexOf('=') + 1));
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: HEIGHT,
        // The bitrate axis starts at zero: a small wobble must not look like a collapse.
        scales: {
          x: { time: true },
          y: { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.15 : 1000] },
        },
        // The legend is the list under the chart (latest values, readable at any width, in dark mode too).
        legend: { show: false },
        series: [
          {
            label: 'time',
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatTime(v * 1000)),
          },
          ...labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            value: (_u: uPlot, v: number | null) => formatBitrate(v === null ? null : v * 1000),
          })),
        ],
        axes: [
          {
            values: (_u: uPlot, splits: number[]) => splits.map((v) => formatTime(v * 1000)),
            space: 70,
            stroke: 'currentColor',
          },
          {
            label: 'kbit/s',
            size: 64,
            stroke: 'currentColor',
          },
        ],
      },
      dataRef.current,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [linesKey]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const last = samples[samples.length - 1];
  const previous = samples[samples.length - 2];
  const summary = last
    ? lines.map((l) => `${l.label}: ${formatBitrate(l.value(last, previous))}`).join(', ')
    : 'no samples yet';
  const age = last ? Math.max(0, Math.round((now - Date.parse(last.at)) / 1000)) : null;
  return (
    <figure className="chart" data-testid="bitrate-chart" data-samples={samples.length}>
      <figcaption>
        Bitrate per rendition, from zero{' '}
        <span className="muted small" data-testid="chart-age" data-age={age ?? ''}>
          {age === null ? '· no sample yet' : `· newest sample ${age} s old`}
        </span>
      </figcaption>
      <div ref={box} className="chart-box" aria-hidden="true" data-testid="chart-box" />
      <ul className="chart-legend" aria-label="Latest bitrates" data-testid="chart-legend">
        {lines.map((l, i) => (
          <li key={l.key} data-key={l.key}>
            <span
              className="chart-swatch"
              style={{ background: COLORS[i % COLORS.length] }}
              aria-hidden="true"
            />
            {l.label}: {last ? formatBitrate(l.value(last, previous)) : '—'}
          </li>
        ))}
      </ul>
      <p className="visually-hidden">Latest bitrates: {summary}</p>
    </figure>
  );
}
