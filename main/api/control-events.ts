/**
 * The control events every dashboard receives (IPC or WebSocket): channel list changes, state changes, the
 * channels' event log as it grows (rejections, restart steps, purge progress) and statistics samples.
 * States are pushed when LiveChannels reports them and also checked every second, so a change made anywhere
 * (a stop, a reconciliation, a run ending) reaches the dashboard.
 */
import { EventEmitter } from 'node:events';
import type { ChannelStore } from '../channels/channel-store.js';
import { SAMPLE_INTERVAL_MS, type ChannelStatistics } from '../channels/channel-statistics.js';
import { eventView } from '../channels/channel-view.js';
import type { LiveChannels } from '../channels/live-channels.js';
import type { IngestState } from '../contract/contract.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import type { ControlEvent } from '../contract/contract.js';

export const STATE_CHECK_MS = 1000;

export interface ControlEventsOptions {
  channels: ChannelStore;
  live: LiveChannels;
  index: SegmentIndex;
  statistics: ChannelStatistics;
}

export class ControlEvents {
  private readonly emitter = new EventEmitter<{ event: [ControlEvent] }>();
  private readonly states = new Map<string, IngestState>();
  private readonly detach: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

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
    const { channels, live } = this.o;
    const onChanged = (entryId: string) => this.publish({ type: 'channels.changed', entryId });
    const onEvent = (ev: Parameters<typeof eventView>[0]) =>
      this.publish({ type: 'channel.event', entryId: ev.entryId, event: eventView(ev) });
    const onState = ({ entryId, state }: { entryId: string; state: IngestState }) =>
      this.state(entryId, state);
    channels.on('changed', onChanged);
    channels.on('event', onEvent);
    live.on('state', onState);
    this.detach.push(
      () => channels.off('changed', onChanged),
      () => channels.off('event', onEvent),
      () => live.off('state', onState),
    );
    for (const c of channels.list())
      this.states.set(c.entryId, this.o.index.getPublishingPoint(c.entryId)?.state ?? 'idle');
    const every = Math.max(1, Math.round(SAMPLE_INTERVAL_MS / STATE_CHECK_MS));
    this.timer = setInterval(() => {
      this.checkStates();
      if (++this.ticks % every === 0) {
        const samples = this.o.statistics.sample();
        if (samples.length > 0) this.publish({ type: 'statistics', samples });
      }
    }, STATE_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.detach.splice(0)) d();
  }

  private checkStates(): void {
    const seen = new Set<string>();
    for (const c of this.o.channels.list()) {
      seen.add(c.entryId);
      this.state(c.entryId, this.o.index.getPublishingPoint(c.entryId)?.state ?? 'idle');
    }
    for (const id of this.states.keys()) if (!seen.has(id)) this.states.delete(id);
  }

  private state(entryId: string, state: IngestState): void {
    if (this.states.get(entryId) === state) return;
    this.states.set(entryId, state);
    this.publish({ type: 'channel.state', entryId, state });
  }
}
