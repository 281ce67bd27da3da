import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StatisticsSample } from '@contract';
import { formatBitrate, formatTime } from '../../format.js';
import { renditionBitrate } from '../../state/statistics-store.js';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const HEIGHT = 220;

/** Stream names seen in the samples, in a stable order. */
function streamNames(samples: readonly StatisticsSample[]): string[] {
  const names = new Set<string>();
  for (const s of samples) for (const r of s.renditions) names.add(r.streamName);
  return [...names].sort();
}

/** Bitrate over time per rendition (uPlot), fed by the history and the `statistics` events. */
export function BitrateChart({ samples }: { samples: readonly StatisticsSample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = useMemo(() => streamNames(samples), [samples]);
  const namesKey = names.join('|');
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs = samples.map((s) => Date.parse(s.at) / 1000);
    // Charted in kbit/s (the axis reads better); the legend formats the value.
    const series = names.map((n) =>
      samples.map((s, i) => {
        const b = renditionBitrate(s, n, i > 0 ? samples[i - 1] : undefined);
        return b === null ? null : b / 1000;
      }),
    );
    return [xs, ...series];
  }, [samples, names]);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: HEIGHT,
        scales: { x: { time: true } },
        series: [
          {
            label: 'time',
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatTime(v * 1000)),
          },
          ...namesKey
            .split('|')
            .filter(Boolean)
            .map((label, i) => ({
              label,
              stroke: COLORS[i % COLORS.length],
              width: 2,
              value: (_u: uPlot, v: number | null) => formatBitrate(v === null ? null : v * 1000),
            })),
        ],
        axes: [
          { values: (_u: uPlot, splits: number[]) => splits.map((v) => formatTime(v * 1000)), space: 70 },
          { label: 'kbit/s', size: 64 },
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
  }, [namesKey]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const last = samples[samples.length - 1];
  const summary = last
    ? names
        .map((n) => `${n}: ${formatBitrate(renditionBitrate(last, n, samples[samples.length - 2]))}`)
        .join(', ')
    : 'no samples yet';
  return (
    <figure className="chart" data-testid="bitrate-chart" data-samples={samples.length}>
      <figcaption>Bitrate over time, per rendition</figcaption>
      <div ref={box} className="chart-box" aria-hidden="true" />
      <p className="visually-hidden">Latest bitrates: {summary}</p>
    </figure>
  );
}
