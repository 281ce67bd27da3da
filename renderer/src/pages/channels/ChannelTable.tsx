import type { ChannelView } from '@contract';
import { ChannelAlertsCount } from '../../components/ChannelAlerts.js';
import { ChannelThumbnail } from '../../components/ChannelThumbnail.js';
import { StateBadge } from '../../components/StateBadge.js';
import { hrefOf } from '../../routing.js';
import { ChannelStatsCells } from './ChannelStatsCells.js';
import { DeleteChannelButton } from './DeleteChannelButton.js';
import { IngestHealth } from './IngestHealth.js';

/** Every channel: its picture, state and alerts, ingest health, viewers and bitrate, and the way to its page. */
export function ChannelTable({ channels, onDeleted }: { channels: ChannelView[]; onDeleted: () => void }) {
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
          <tr key={c.entryId} data-testid="channel-row" data-entry-id={c.entryId}>
            <td className="thumbnail-cell">
              <ChannelThumbnail channel={c} size="small" />
            </td>
            <td>
              <a href={hrefOf({ page: 'channel', entryId: c.entryId })} className="channel-link">
                {c.name}
              </a>
              <div className="muted small">
                {c.entryId} · {c.access}
              </div>
            </td>
            <td>
              <StateBadge state={c.state} /> <ChannelAlertsCount alerts={c.alerts} />
            </td>
            <td>
              <IngestHealth ingests={c.ingests} />
            </td>
            <ChannelStatsCells entryId={c.entryId} />
            <td className="actions">
              <DeleteChannelButton channel={c} onDeleted={onDeleted} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
