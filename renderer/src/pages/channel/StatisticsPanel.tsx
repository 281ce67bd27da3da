import type { StatisticsSample } from '@contract';
import { useNow } from '../../components/useNow.js';
import { formatBitrate, formatBytes, formatDuration, formatTime } from '../../format.js';
import { renditionBitrate, renditionLabel, speedState } from '../../state/statistics-store.js';
import { BitrateChart } from './BitrateChart.js';

const SPEED_WORDS: Record<ReturnType<typeof speedState>, string> = {
  unknown: '',
  'catching-up': 'catching up',
  'real-time': 'real time',
  slow: 'behind real time',
};

/** What the encoder sends: frame size, frame rate, bitrate and how long it has been publishing. */
function InputLine({ input, now }: { input: StatisticsSample['input']; now: number }) {
  if (!input) return <p className="muted small stats-input">No encoder is publishing.</p>;
  const size = input.width && input.height ? `${input.width}×${input.height}` : 'size unknown';
  return (
    <p className="stats-input" data-testid="stats-input">
      <strong>Input</strong> ({input.role}): <span data-testid="input-size">{size}</span> ·{' '}
      <span data-testid="input-fps">
        {input.fps === null ? '– fps' : `${Math.round(input.fps * 10) / 10} fps`}
      </span>
      {input.bitrate !== null ? ` · ${formatBitrate(input.bitrate)}` : ''} · up{' '}
      <span data-testid="input-uptime" data-started-at={input.startedAt}>
        {formatDuration(now - Date.parse(input.startedAt))}
      </span>
    </p>
  );
}

/**
 * A channel's statistics: the input in the header; viewers now, their peak (and when) and the event's distinct
 * viewers; one row per output rendition with its bitrate; the bitrate chart; per transcoder its fps, speed,
 * dropped frames and bytes written. The dashboard's own preview and admin requests are not viewers.
 */
export function StatisticsPanel({ samples }: { samples: readonly StatisticsSample[] }) {
  const now = useNow(1000);
  const last = samples[samples.length - 1];
  const previous = samples[samples.length - 2];
  const age = last ? Math.max(0, Math.round((now - Date.parse(last.at)) / 1000)) : null;
  const outputs = last?.outputs ?? [];
  const edges = last?.edges ?? [];
  return (
    <div className="statistics">
      <InputLine input={last?.input ?? null} now={now} />
      <dl className="stat-tiles">
        <div>
          <dt>Viewers now</dt>
          <dd data-testid="channel-viewers">{last?.viewers ?? 0}</dd>
        </div>
        <div>
          <dt>Peak</dt>
          <dd data-testid="peak-viewers">
            {last?.peakViewers ?? 0}
            {last?.peakAt ? <span className="tile-note"> at {formatTime(last.peakAt)}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Unique viewers</dt>
          <dd data-testid="unique-viewers">
            {last?.uniqueViewers ?? 0}
            {last?.viewersSince ? (
              <span className="tile-note"> since {formatTime(last.viewersSince)}</span>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Served to viewers</dt>
          <dd data-testid="bytes-served">{formatBytes(last?.bytesServed ?? 0)}</dd>
        </div>
        <div>
          <dt>Newest sample</dt>
          <dd data-testid="last-sample" data-age={age ?? ''} title={last ? formatTime(last.at) : undefined}>
            {age === null ? '—' : `${age} s ago`}
          </dd>
        </div>
      </dl>
      <p className="muted small">
        A viewer is a player on one address (players behind one address are told apart by the portal&apos;s
        player id, else by their browser); this dashboard&apos;s preview and admin requests are not counted.
      </p>
      {edges.length > 0 ? (
        <p className="notice small" role="status" data-testid="edge-notice">
          An edge or cache stands in front of the origin ({edges.join(', ')}): the viewers it serves from its
          cache are not all counted here; its own statistics have them.
        </p>
      ) : null}
      {outputs.length > 0 ? (
        <table className="table" aria-label="Outputs">
          <thead>
            <tr>
              <th scope="col">Rendition</th>
              <th scope="col">Frame size</th>
              <th scope="col" className="num">
                Bitrate
              </th>
              <th scope="col" className="num">
                Target
              </th>
            </tr>
          </thead>
          <tbody>
            {outputs.map((o) => (
              <tr key={o.trackName} data-testid="output-row" data-rendition={o.rendition} data-kind={o.kind}>
                <th scope="row">{renditionLabel(o.rendition, o.kind)}</th>
                <td>{o.width && o.height ? `${o.width}×${o.height}` : o.kind === 'audio' ? 'audio' : '—'}</td>
                <td className="num" data-testid="output-bitrate" data-bps={o.bitrate ?? ''}>
                  {formatBitrate(o.bitrate)}
                </td>
                <td className="num">{o.declaredBitrate ? formatBitrate(o.declaredBitrate) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <BitrateChart samples={samples} now={now} />
      {last && last.renditions.length > 0 ? (
        <table className="table" aria-label="Transcoders">
          <thead>
            <tr>
              <th scope="col">Transcoder</th>
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
            {last.renditions.map((r) => {
              const state = speedState(r.speed);
              return (
                <tr key={r.streamName} data-testid="rendition-row" data-stream={r.streamName}>
                  <th scope="row">{r.streamName}</th>
                  <td className="num" data-testid="rendition-bitrate">
                    {formatBitrate(renditionBitrate(last, r.streamName, previous))}
                  </td>
                  <td className="num" data-testid="rendition-fps">
                    {r.fps.toFixed(1)}
                  </td>
                  <td
                    className={`num speed-${state}`}
                    data-testid="rendition-speed"
                    data-speed-state={state}
                    title={
                      state === 'catching-up'
                        ? 'Faster than real time: the transcoder catches up after a pause. This is normal.'
                        : undefined
                    }
                  >
                    {r.speed === null ? '—' : `${r.speed.toFixed(2)}×`}
                    {SPEED_WORDS[state] ? <span className="small"> {SPEED_WORDS[state]}</span> : null}
                  </td>
                  <td className="num" data-testid="rendition-dropped">
                    {r.dropFrames}
                  </td>
                  <td className="num" data-testid="rendition-bytes" data-bytes={r.bytes}>
                    {formatBytes(r.bytes)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted">No transcoder is running: statistics appear when the encoder publishes.</p>
      )}
    </div>
  );
}
