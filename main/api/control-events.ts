/**
 * The control events every dashboard receives (IPC or WebSocket): channel list changes, state changes, the
 * channels' event log as it grows (rejections, restart steps, purge progress) and statistics samples.
 * States are pushed as the publishing point state machine (the origin's, their only writer) changes them.
 */
import { EventEmitter } from 'node:events';
import type { ChannelStore } from '../channels/channel-store.js';
import { SAMPLE_INTERVAL_MS, type ChannelStatistics } from '../channels/channel-statistics.js';
import { eventView } from '../channels/channel-view.js';
import type { PublishingPointState } from '../contract/contract.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import type { ControlEvent, EdgeView } from '../contract/contract.js';

/** The publishing point state machine, as the events need it (origin/publishing-point-state.ts). */
export interface StateChanges {
  on(event: 'state', listener: (c: { entryId: string; state: PublishingPointState }) => void): unknown;
  off(event: 'state', listener: (c: { entryId: string; state: PublishingPointState }) => void): unknown;
}

export interface ControlEventsOptions {
  channels: ChannelStore;
  states: StateChanges;
  index: SegmentIndex;
  statistics: ChannelStatistics;
  /** The edge: its statistics are pushed with the channels' while it is on. */
  edge?: { readonly enabled: boolean; view(): EdgeView };
}

export class ControlEvents {
  private readonly emitter = new EventEmitter<{ event: [ControlEvent] }>();
  private readonly states = new Map<string, PublishingPointState>();
  private readonly detach: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ControlEventsOptions) {
    this.emitter.setMaxListeners(0);
  }

  on(listener: (e: ControlEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** For the shell and host: events that are not the core's (e.g. `appliance.restarting`). */
  publish(e: ControlEvent): void {
    this.emitter.emit('event', e);
  }

  start(): void {
    const { channels, states } = this.o;
    const onChanged = (entryId: string) => this.publish({ type: 'channels.changed', entryId });
    const onEvent = (ev: Parameters<typeof eventView>[0]) =>
      this.publish({ type: 'channel.event', entryId: ev.entryId, event: eventView(ev) });
    const onState = ({ entryId, state }: { entryId: string; state: PublishingPointState }) =>
      this.state(entryId, state);
    channels.on('changed', onChanged);
    channels.on('event', onEvent);
    states.on('state', onState);
    this.detach.push(
      () => channels.off('changed', onChanged),
      () => channels.off('event', onEvent),
      () => states.off('state', onState),
    );
    for (const c of channels.list())
      this.states.set(c.entryId, this.o.index.getPublishingPoint(c.entryId)?.state ?? 'idle');
    this.timer = setInterval(() => {
      const samples = this.o.statistics.sample();
      if (samples.length > 0) this.publish({ type: 'statistics', samples });
      if (this.o.edge?.enabled) this.publish({ type: 'edge.statistics', edge: this.o.edge.view() });
    }, SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.detach.splice(0)) d();
  }

  private state(entryId: string, state: PublishingPointState): void {
    if (this.states.get(entryId) === state) return;
    this.states.set(entryId, state);
    this.publish({ type: 'channel.state', entryId, state });
  }
}
