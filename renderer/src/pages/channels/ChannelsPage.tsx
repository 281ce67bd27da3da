import type { ApplianceStatus } from '@contract';
import { useControlEvents, useDebounced, useResource, useResync } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { ChannelTable } from './ChannelTable.js';
import { NewChannelForm } from './NewChannelForm.js';
import { RefusedPublishes } from './RefusedPublishes.js';

/** Every channel, live: refetched (debounced) on channel events; numbers follow `statistics` events. */
export function ChannelsPage({ status }: { status: ApplianceStatus | null }) {
  const resync = useResync();
  const list = useResource('channels.list', undefined, `channels-${resync}`);
  const refetch = useDebounced(list.reload, 300);
  useControlEvents((e) => {
    if (e.type === 'channels.changed' || e.type === 'channel.state' || e.type === 'channel.event') refetch();
  });
  return (
    <div className="page channels-page">
      <h1>Channels</h1>
      <NewChannelForm mode={status?.mode} onCreated={list.reload} />
      <RefusedPublishes />
      <section className="card" aria-labelledby="channels-list-h">
        <h2 id="channels-list-h">All channels</h2>
        <Progress text={list.loading && !list.data ? 'Loading the channels…' : null} />
        <ErrorAlert error={list.error} action="Could not load the channels" />
        {list.data ? (
          <ChannelTable channels={list.data.channels} onDeleted={list.reload} origin={status?.urls.origin} />
        ) : null}
      </section>
    </div>
  );
}
