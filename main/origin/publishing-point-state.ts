/**
 * The publishing point's ingest state machine (idle → starting → started; → stopping → stopped), and its only
 * writer: the fragment writer's first init segment and first fragment move it forward, the feeds say when an
 * ingest ends, channel control and shutdown stop it, and everyone who shows it (the dashboard's events, the
 * registration with Kaltura) listens to its `state` events instead of polling the index.
 */
import { EventEmitter } from 'node:events';
import type { PublishingPointState } from '../contract/contract.js';
import type { FragmentWriter } from './fragment-writer.js';
import type { SegmentIndex } from './segment-index.js';

export interface StateChange {
  entryId: string;
  state: PublishingPointState;
}

/** Whether a publishing point has a transcoder feeding it now (a feed that started and has not ended). */
export type IsFed = (pp: string) => boolean;

export class PublishingPointStates extends EventEmitter<{ state: [StateChange] }> {
  /** Told by the owner of the feeds; until then nothing is fed. */
  isFed: IsFed = () => false;

  constructor(private readonly index: SegmentIndex) {
    super();
    this.setMaxListeners(0);
  }

  /** Follows a fragment writer: its first init segment is `starting`, its first fragment `started`. */
  follow(fragments: FragmentWriter): () => void {
    const onInit = (pp: string) => this.starting(pp);
    const onFragment = (pp: string) => this.started(pp);
    fragments.on('init', onInit);
    fragments.on('fragment', onFragment);
    return () => {
      fragments.off('init', onInit);
      fragments.off('fragment', onFragment);
    };
  }

  get(pp: string): PublishingPointState | undefined {
    return this.index.getPublishingPoint(pp)?.state;
  }

  /** A run announced its tracks. A fed point that already started stays started (a second stream joining). */
  starting(pp: string): void {
    const state = this.get(pp);
    if (state === undefined || state === 'starting' || !this.isFed(pp)) return;
    if (state === 'started') return;
    this.write(pp, 'starting');
  }

  /** Fragments are flowing. */
  started(pp: string): void {
    const state = this.get(pp);
    if (state === undefined || state === 'started' || !this.isFed(pp)) return;
    if (state !== 'starting' && state !== 'idle' && state !== 'stopped') return;
    this.write(pp, 'started');
  }

  /** The last feed of the point is ending (its transcoder drains the last fragments). */
  stopping(pp: string): void {
    const state = this.get(pp);
    if (state === undefined || state === 'stopping') return;
    this.write(pp, 'stopping');
  }

  /** The last feed of the point ended. */
  stopped(pp: string): void {
    const state = this.get(pp);
    if (state === undefined || state === 'stopped') return;
    this.write(pp, 'stopped');
  }

  /** Stops a point something was feeding (channel stopped, shutdown, reconciliation); an idle one stays idle. */
  halt(pp: string): void {
    const state = this.get(pp);
    if (state === undefined || state === 'idle' || state === 'stopped') return;
    this.write(pp, 'stopped');
  }

  /** A point was created (idle) or deleted (idle to its viewers): tells the listeners its state as it is now. */
  announce(pp: string): void {
    this.emit('state', { entryId: pp, state: this.get(pp) ?? 'idle' });
  }

  private write(pp: string, state: PublishingPointState): void {
    this.index.setState(pp, state);
    this.emit('state', { entryId: pp, state });
  }
}
