import type { StatisticsSample } from '@contract';
import { formatBitrate, formatBytes, formatTime } from '../../format.js';
import { renditionBitrate } from '../../state/statistics-store.js';
import { BitrateChart } from './BitrateChart.js';

/** Viewers, bytes served, and per rendition: bitrate (chart and number), fps, speed, dropped frames, bytes. */
export function StatisticsPanel({ samples }: { samples: readonly StatisticsSample[] }) {
  const last = samples[samples.length - 1];
  const previous = samples[samples.length - 2];
  return (
    <div className="statistics">
      <dl className="stat-tiles">
        <div>
          <dt>Viewers</dt>
          <dd data-testid="channel-viewers">{last?.viewers ?? 0}</dd>
        </div>
        <div>
          <dt>Served to viewers</dt>
          <dd data-testid="bytes-served">{formatBytes(last?.bytesServed ?? 0)}</dd>
        </div>
        <div>
          <dt>Last sample</dt>
          <dd data-testid="last-sample">{last ? formatTime(last.at) : '—'}</dd>
        </div>
      </dl>
      <BitrateChart samples={samples} />
      {last && last.renditions.length > 0 ? (
        <table className="table" aria-label="Renditions">
          <thead>
            <tr>
              <th scope="col">Rendition</th>
              <th scope="col" className="num">
                Bitrate
              </th>
              <th scope="col" className="num">
                FPS
              </th>
              <th scope="col" className="num">
                Speed
              </th>
              <th scope="col" className="num">
                Dropped frames
              </th>
              <th scope="col" className="num">
                Bytes written
              </th>
            </tr>
          </thead>
          <tbody>
            {last.renditions.map((r) => (
              <tr key={r.streamName} data-testid="rendition-row" data-stream={r.streamName}>
                <th scope="row">{r.streamName}</th>
                <td className="num" data-testid="rendition-bitrate">
                  {formatBitrate(renditionBitrate(last, r.streamName, previous))}
                </td>
                <td className="num" data-testid="rendition-fps">
                  {r.fps.toFixed(1)}
                </td>
                <td className="num" data-testid="rendition-speed">
                  {r.speed === null ? '—' : `${r.speed.toFixed(2)}×`}
                </td>
                <td className="num" data-testid="rendition-dropped">
                  {r.dropFrames}
                </td>
                <td className="num" data-testid="rendition-bytes" data-bytes={r.bytes}>
                  {formatBytes(r.bytes)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No transcoder is running: statistics appear when the encoder publishes.</p>
      )}
    </div>
  );
}
