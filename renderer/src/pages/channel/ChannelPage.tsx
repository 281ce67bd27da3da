import { useEffect, type ReactNode } from 'react';
import { useBridge, useControlEvents, useDebounced, useResource, useResync } from '../../api/hooks.js';
import { ChannelAlertsBanner } from '../../components/ChannelAlerts.js';
import { ChannelThumbnail } from '../../components/ChannelThumbnail.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { StateBadge } from '../../components/StateBadge.js';
import { hrefOf } from '../../routing.js';
import { useChannelSamples, useStatisticsStore } from '../../state/statistics-context.js';
import { IngestHealth } from '../channels/IngestHealth.js';
import { AccessPanel } from './AccessPanel.js';
import { ArchivePanel } from './ArchivePanel.js';
import { ChannelControls } from './ChannelControls.js';
import { ChannelEventsList } from './ChannelEventsList.js';
import { EncoderPanel } from './EncoderPanel.js';
import { PreviewPlayer } from './PreviewPlayer.js';
import { PublishingPointOptions } from './PublishingPointOptions.js';
import { LastPublish } from './LastPublish.js';
import { PublishBlocks } from './PublishBlocks.js';
import { PushTargetsPanel } from './PushTargetsPanel.js';
import { RecordingSwitch } from './RecordingSwitch.js';
import { ShareCard } from './ShareCard.js';
import { StatisticsPanel } from './StatisticsPanel.js';

function Panel({ title, className, children }: { title: string; className?: string; children: ReactNode }) {
  const id = `panel-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/**
 * One channel: control, preview, statistics, archive timeline, encoder settings, options, access, events. A channel
 * that has not gone live yet (idle, no statistics) shows its encoder set-up first and hides what would be empty
 * (preview, statistics, timeline); "Record this event" sits in the header.
 */
export function ChannelPage({ entryId, ecdn = false }: { entryId: string; ecdn?: boolean }) {
  const bridge = useBridge();
  const store = useStatisticsStore();
  const resync = useResync();
  const ch = useResource('channels.get', { entryId }, `${entryId}-${resync}`);
  const refetch = useDebounced(ch.reload, 250);
  const samples = useChannelSamples(entryId);
  useControlEvents((e) => {
    if (
      (e.type === 'channel.state' || e.type === 'channel.event' || e.type === 'channels.changed') &&
      e.entryId === entryId
    )
      refetch();
  });
  useEffect(() => {
    let live = true;
    void bridge.invoke('channels.statistics', { entryId }).then((r) => {
      if (live && r.ok) store.seed(entryId, r.value.samples);
    });
    return () => {
      live = false;
    };
  }, [bridge, store, entryId, resync]);

  const channel = ch.data;
  // Before its first publish a channel is set up: the encoder comes first, empty panels are hidden.
  const setup = channel?.state === 'idle' && samples.length === 0;
  if (!channel) {
    return (
      <div className="page">
        <p>
          <a href={hrefOf({ page: 'channels' })}>← All channels</a>
        </p>
        <Progress text={ch.loading ? 'Loading the channel…' : null} />
        <ErrorAlert error={ch.error} action="Could not load the channel" />
      </div>
    );
  }
  return (
    <div className={`page channel-page${setup ? ' channel-setup' : ''}`} data-setup={setup}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <a href={hrefOf({ page: 'channels' })}>Channels</a> / <span aria-current="page">{channel.name}</span>
      </nav>
      <ChannelAlertsBanner alerts={channel.alerts} />
      <header className="channel-header" data-testid="channel-header">
        <ChannelThumbnail channel={channel} size="large" />
        <div>
          <h1>{channel.name}</h1>
          <p className="muted small">
            {channel.entryId} · {channel.access} · publishing point {channel.publishingPoint.path}
          </p>
        </div>
        <StateBadge state={channel.state} />
        <IngestHealth ingests={channel.ingests} details />
        <ChannelControls channel={channel} viewers={samples.at(-1)?.viewers ?? 0} onChanged={ch.reload} />
        <RecordingSwitch channel={channel} />
      </header>
      <LastPublish channel={channel} />
      <PublishBlocks channel={channel} onChanged={ch.reload} />
      <ErrorAlert error={ch.error} action="Could not refresh the channel" />
      {setup ? (
        <Panel title="Encoder" className="encoder-first">
          <EncoderPanel channel={channel} ecdn={ecdn} />
        </Panel>
      ) : null}
      <Panel title="Share with viewers">
        <ShareCard channel={channel} />
      </Panel>
      {/* Mounted while hidden: the preview follows the channel and is there the moment it goes live. */}
      <div className="grid-2" hidden={setup} data-testid="live-panels">
        <Panel title="Preview">
          <PreviewPlayer channel={channel} />
        </Panel>
        <Panel title="Statistics">
          <StatisticsPanel samples={samples} />
        </Panel>
      </div>
      <ArchivePanel channel={channel} hideWhenEmpty={channel.state === 'idle'} />
      <div className="grid-2">
        {setup ? null : (
          <Panel title="Encoder">
            <EncoderPanel channel={channel} ecdn={ecdn} />
          </Panel>
        )}
        <Panel title="Access">
          <AccessPanel channel={channel} onChanged={ch.reload} />
        </Panel>
        <Panel title="Also send to">
          <PushTargetsPanel entryId={channel.entryId} kalturaUrl={channel.kalturaBroadcastUrl} />
        </Panel>
        <Panel title="Publishing point options">
          <PublishingPointOptions entryId={entryId} state={channel.state} />
        </Panel>
        <Panel title="Events">
          <ChannelEventsList entryId={entryId} />
        </Panel>
      </div>
    </div>
  );
}
