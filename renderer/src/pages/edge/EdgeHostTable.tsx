import type { EdgeHostStatsView } from '@contract';
import { formatBytes } from '../../format.js';

/** One row per origin host the edge fetched from. */
export function EdgeHostTable({ hosts }: { hosts: EdgeHostStatsView[] }) {
  if (hosts.length === 0) return <p className="empty">Nothing fetched through the edge yet.</p>;
  return (
    <table className="table edge-table" aria-label="Edge origin hosts">
      <thead>
        <tr>
          <th scope="col">Origin host</th>
          <th scope="col" className="num">
            Requests
          </th>
          <th scope="col" className="num">
            Hit ratio
          </th>
          <th scope="col" className="num">
            From upstream
          </th>
          <th scope="col" className="num">
            Served
          </th>
          <th scope="col" className="num">
            WAN saving
          </th>
          <th scope="col" className="num">
            Viewers
          </th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((h) => (
          <tr key={h.host} data-testid="edge-host-row" data-host={h.host}>
            <td>
              {h.host}
              {h.errors + h.stale > 0 ? (
                <div className="muted small">
                  {h.stale} stale · {h.errors} upstream errors
                </div>
              ) : null}
            </td>
            <td className="num" data-testid="edge-host-requests">
              {h.requests}
            </td>
            <td className="num">{(100 * h.hitRatio).toFixed(1)} %</td>
            <td className="num">{formatBytes(h.bytesFromUpstream)}</td>
            <td className="num">{formatBytes(h.bytesServed)}</td>
            <td className="num" data-testid="edge-host-saving">
              {h.wanSavingPercent.toFixed(1)} %
            </td>
            <td className="num">{h.viewers}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
