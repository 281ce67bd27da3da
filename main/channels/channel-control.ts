/**
 * Channel control as staff use it: stop (encoders disconnected, publishes refused), start, restart (the seed's
 * "Restart a session completely") and delete. One action at a time per channel: a stop during a restart waits
 * for it, then wins. Each step goes on the channel's events as it happens.
 */
import type { PublishingPointOptions } from '../origin/publishing-point-options.js';
import type { RecordEvent } from './channel-log.js';

/** The channels, as control needs them. */
export interface ControlChannels {
  get(entryId: string): { accepting: boolean } | undefined;
  setAccepting(entryId: string, accepting: boolean): void;
}

/** The publishing points, as control needs them. */
export interface ControlPublishingPoints {
  get(entryId: string): { options: PublishingPointOptions } | undefined;
  purge(entryId: string, range: { kind: 'keep'; seconds: number }): Promise<unknown>;
  remove(entryId: string): unknown;
  ensure(entryId: string, options: PublishingPointOptions): unknown;
  removeFiles(entryId: string): unknown;
}

export interface ChannelControlOptions {
  channels: ControlChannels;
  pps: ControlPublishingPoints;
  /** Ends an entry's ingests and transcoders (the feeds). */
  endEntry(entryId: string): Promise<void>;
  /** Stops the publishing point's state (the state machine), unless it is idle. */
  halt(entryId: string): void;
  /** Drops the publishing point from the index. */
  deleteIndex(entryId: string): void;
  /** Forgets what the publish gate remembers of an entry (the 10 s skip, the 30 s block). */
  forget(entryId: string): void;
  record: RecordEvent;
}

export class ChannelControl {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly o: ChannelControlOptions) {}

  /** Channel control `stop`: encoders disconnected, streams ended, publishes refused until `start`. */
  stopChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, () => this.doStop(entryId));
  }

  /** Channel control `start`: publishes are accepted again. */
  startChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, async () => this.doStart(entryId));
  }

  /** Channel control `restart` (see doRestart). */
  restartChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, () => this.doRestart(entryId));
  }

  /** Disconnects an entry's encoders and stops its transcoders; its publishing point is stopped. */
  async stopEntry(entryId: string): Promise<void> {
    await this.o.endEntry(entryId);
    this.o.halt(entryId);
  }

  /** Removes a channel's publishing point: fragments, index and directory. */
  async deleteEntry(entryId: string): Promise<void> {
    await this.stopEntry(entryId);
    this.o.pps.removeFiles(entryId);
    this.o.deleteIndex(entryId);
    this.o.forget(entryId);
  }

  private serialised<T>(entryId: string, action: () => Promise<T>): Promise<T> {
    const previous = this.running.get(entryId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(action);
    this.running.set(entryId, next);
    void next
      .finally(() => {
        if (this.running.get(entryId) === next) this.running.delete(entryId);
      })
      .catch(() => undefined);
    return next;
  }

  private async doStop(entryId: string): Promise<void> {
    this.o.channels.setAccepting(entryId, false);
    this.o.record(
      entryId,
      'info',
      'CHANNEL_STOPPING',
      'stopping: disconnecting the encoders and ending the streams',
    );
    await this.stopEntry(entryId);
    this.o.record(
      entryId,
      'info',
      'CHANNEL_STOPPED',
      'channel stopped; publishes are refused until it is started',
    );
  }

  private doStart(entryId: string): void {
    this.o.channels.setAccepting(entryId, true);
    this.o.forget(entryId);
    this.o.record(entryId, 'info', 'CHANNEL_STARTED', 'channel started; publishes are accepted');
  }

  /**
   * Channel control `restart`, the seed's "Restart a session completely": stop the encoder, purge the archive
   * completely, delete the publishing point, create it again with the same options, accept the encoder again.
   * Each step is reported as an event as it happens.
   */
  private async doRestart(entryId: string): Promise<void> {
    const step = (n: number, message: string) =>
      this.o.record(entryId, 'info', 'RESTART_STEP', `${n}/5 ${message}`);
    const wasAccepting = this.o.channels.get(entryId)?.accepting !== false;
    this.o.channels.setAccepting(entryId, false);
    try {
      step(1, 'stopping the encoder');
      await this.stopEntry(entryId);
      const pp = this.o.pps.get(entryId);
      if (pp) {
        step(2, 'purging the archive completely');
        await this.o.pps.purge(entryId, { kind: 'keep', seconds: 0 });
        step(3, 'deleting the publishing point');
        this.o.pps.remove(entryId);
        step(4, 'creating the publishing point again with the same options');
        this.o.pps.ensure(entryId, pp.options);
      } else {
        step(2, 'nothing to purge: no publishing point yet');
        step(3, 'nothing to delete');
        step(4, 'the publishing point will be created on the next publish');
      }
    } catch (err) {
      if (wasAccepting) this.o.channels.setAccepting(entryId, true);
      this.o.record(entryId, 'error', 'RESTART_FAILED', `restart failed: ${(err as Error).message}`);
      throw err;
    }
    step(5, 'accepting the encoder again');
    this.o.channels.setAccepting(entryId, true);
    this.o.forget(entryId);
    this.o.record(entryId, 'info', 'RESTART_DONE', 'restart complete');
  }
}
