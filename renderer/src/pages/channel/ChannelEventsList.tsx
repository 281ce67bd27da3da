import { useEffect, useState } from 'react';
import type { ChannelEventView } from '@contract';
import { useControlEvents, useResource, useResync } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { formatDateTime } from '../../format.js';

const LIMIT = 300;

/** The channel's log, newest first and live: publishes, rejections with their reasons, restarts, purges. */
export function ChannelEventsList({ entryId }: { entryId: string }) {
  const resync = useResync();
  const initial = useResource('channels.events', { entryId }, `${entryId}-${resync}`);
  const [events, setEvents] = useState<ChannelEventView[]>([]);
  useEffect(() => {
    if (!initial.data) return;
    const loaded = initial.data.events;
    setEvents((current) => merge(current, loaded));
  }, [initial.data]);
  useControlEvents((e) => {
    if (e.type === 'channel.event' && e.entryId === entryId)
      setEvents((current) => merge(current, [e.event]));
  });
  return (
    <div className="events">
      <ErrorAlert error={initial.error} action="Could not load the events" />
      {events.length === 0 ? (
        <p className="empty">No events yet.</p>
      ) : (
        <div className="scroll">
          <table className="table" aria-label="Channel events" data-testid="channel-events">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} className={`event-${e.level}`} data-testid="channel-event" data-code={e.code}>
                  <td className="nowrap">{formatDateTime(e.at)}</td>
                  <td>
                    <span className={`level level-${e.level}`}>{e.level}</span>
                  </td>
                  <td className="code">{e.code}</td>
                  <td>
                    {e.message}
                    {e.count ? (
                      <span className="muted small" data-testid="event-repeats">
                        {' '}
                        ×{e.count} since {formatDateTime(e.firstAt ?? e.at)}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function merge(current: ChannelEventView[], incoming: ChannelEventView[]): ChannelEventView[] {
  const byId = new Map<number, ChannelEventView>();
  for (const e of current) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, LIMIT);
}
