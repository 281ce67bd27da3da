import type { ChannelView } from '@contract';
import { ChannelAlertsCount } from '../../components/ChannelAlerts.js';
import { ChannelThumbnail } from '../../components/ChannelThumbnail.js';
import { StateBadge } from '../../components/StateBadge.js';
import { useNow } from '../../components/useNow.js';
import { formatDuration } from '../../format.js';
import { hrefOf } from '../../routing.js';
import { HEALTH_WORDS, channelHealth, liveSince, runningBlocks } from './channel-health.js';
import { ChannelRowActions } from './ChannelRowActions.js';
import { ChannelStatsCells } from './ChannelStatsCells.js';
import { DeleteChannelButton } from './DeleteChannelButton.js';
import { IngestHealth } from './IngestHealth.js';

function ChannelRow({
  c,
  origin,
  now,
  onDeleted,
}: {
  c: ChannelView;
  origin: string | undefined;
  now: number;
  onDeleted: () => void;
}) {
  const health = channelHealth(c);
  const since = liveSince(c);
  const blocks = runningBlocks(c, now);
  // The last attempt was refused and nothing is live: the encoder is trying and failing.
  const refused = blocks.length === 0 && c.lastPublish?.accepted === false && c.ingests.length === 0;
  const marked = blocks.length > 0 || refused;
  return (
    <tr
      data-testid="channel-row"
      data-entry-id={c.entryId}
      data-health={health}
      data-blocked={marked ? 'true' : 'false'}
      className={marked ? 'row-blocked' : undefined}
    >
      <td className="thumbnail-cell">
        <ChannelThumbnail channel={c} size="small" />
      </td>
      <td data-label="Channel">
        <a
          href={hrefOf({ page: 'channel', entryId: c.entryId })}
          className="channel-link"
          id={`channel-name-${c.entryId}`}
        >
          {c.name}
        </a>
        <div className="muted small">
          {c.entryId} · {c.access}
        </div>
        {blocks.length > 0 ? (
          <div className="row-mark small" role="status" data-testid="row-refused">
            Publish refused: {blocks[0]?.reason} (from {blocks[0]?.address}; blocked{' '}
            {Math.ceil((Date.parse(blocks[0]?.until ?? '') - now) / 1000)} s more)
          </div>
        ) : refused ? (
          <div className="row-mark small" role="status" data-testid="row-refused">
            Last publish refused: {c.lastPublish?.message} (from {c.lastPublish?.remote})
          </div>
        ) : null}
        {!c.accepting ? (
          <div className="row-mark small" data-testid="row-not-accepting">
            Stopped: publishes are refused until Start.
          </div>
        ) : null}
      </td>
      <td data-label="State">
        <span
          className={`health-dot health-${health}`}
          role="img"
          aria-label={`Health: ${HEALTH_WORDS[health]}`}
          title={HEALTH_WORDS[health]}
          data-testid="health-dot"
          data-health={health}
        />{' '}
        <StateBadge state={c.state} /> <ChannelAlertsCount alerts={c.alerts} />
      </td>
      <td data-label="Uptime" className="num" data-testid="uptime">
        {since === null ? '—' : formatDuration(now - since)}
      </td>
      <td data-label="Ingest">
        <IngestHealth ingests={c.ingests} />
      </td>
      <ChannelStatsCells entryId={c.entryId} />
      <td className="actions" data-label="Actions">
        <div className="row-actions">
          <ChannelRowActions channel={c} origin={origin} describedBy={`channel-name-${c.entryId}`} />
          <DeleteChannelButton channel={c} onDeleted={onDeleted} />
        </div>
      </td>
    </tr>
  );
}

/**
 * Every channel, as an operations view: picture, name, a health dot and state, uptime, ingest, viewers and
 * bitrate, and Watch / Copy link / Delete; a row is marked while publishes to it are refused. On a phone each
 * row is a card.
 */
export function ChannelTable({
  channels,
  onDeleted,
  origin,
}: {
  channels: ChannelView[];
  onDeleted: () => void;
  /** The origin listener's address (the portal), for Watch and Copy link. */
  origin?: string | undefined;
}) {
  const now = useNow(1000);
  if (channels.length === 0) return <p className="empty">No channels yet.</p>;
  return (
    <table className="table channels-table" aria-label="Channels">
      <thead>
        <tr>
          <th scope="col">
            <span className="visually-hidden">Picture</span>
          </th>
          <th scope="col">Channel</th>
          <th scope="col">State</th>
          <th scope="col" className="num">
            Uptime
          </th>
          <th scope="col">Ingest</th>
          <th scope="col" className="num">
            Viewers
          </th>
          <th scope="col" className="num">
            Bitrate
          </th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {channels.map((c) => (
          <ChannelRow key={c.entryId} c={c} origin={origin} now={now} onDeleted={onDeleted} />
        ))}
      </tbody>
    </table>
  );
}
