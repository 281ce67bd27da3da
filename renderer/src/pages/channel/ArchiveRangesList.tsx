import type { ArchiveView } from '@contract';
import { formatDuration, formatTime } from '../../format.js';
import { gapsOf } from './timeline-scale.js';

/** The timeline as text, for screen readers and exact times: each track's ranges and gaps. */
export function ArchiveRangesList({ archive }: { archive: ArchiveView }) {
  return (
    <details className="ranges-list">
      <summary>Ranges as a list</summary>
      {archive.tracks.map((t) => (
        <div key={t.trackName}>
          <h4>
            {t.trackName} ({t.kind})
          </h4>
          <ul>
            {t.ranges.map((r) => (
              <li key={r.start}>
                {formatTime(r.start)} – {formatTime(r.end)} (
                {formatDuration(Date.parse(r.end) - Date.parse(r.start))}, {r.ingest})
              </li>
            ))}
            {gapsOf(t.ranges).map((g) => (
              <li key={`gap-${g.start}`} className="muted">
                gap {formatTime(g.start)} – {formatTime(g.end)} ({formatDuration(g.end - g.start)})
              </li>
            ))}
            {t.ranges.length === 0 ? <li className="muted">no fragments</li> : null}
          </ul>
        </div>
      ))}
    </details>
  );
}
