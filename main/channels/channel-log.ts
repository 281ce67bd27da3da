/**
 * What happens on a channel, written to its event list and the log (only for channels that exist). Every end of
 * a publish says why it ended: the encoder left, staff stopped or restarted the channel, the appliance restarted
 * to apply saved settings, or it shut down.
 */
import type { Logger } from '../lib/logger.js';
import type { EventLevel } from './channel-store.js';

/** The channel store's event list, as the live parts need it. */
export interface ChannelEventsSink {
  get(entryId: string): unknown;
  addEvent(entryId: string, level: EventLevel, code: string, message: string): unknown;
}

export type RecordEvent = (entryId: string, level: EventLevel, code: string, message: string) => void;

/** Why the core ends a publish (anything else is the encoder's doing). */
export type StopCause = 'staff-stop' | 'staff-restart' | 'deleted' | 'settings-saved' | 'shutdown';

export const STOP_CAUSE_TEXT: Record<StopCause | 'encoder', string> = {
  encoder: 'the encoder closed the connection or stopped sending',
  'staff-stop': 'staff stopped the channel',
  'staff-restart': 'staff restarted the channel',
  deleted: 'the channel was deleted',
  'settings-saved': 'the appliance restarted to apply saved settings',
  shutdown: 'the appliance shut down',
};

/** The event codes that mark the end of a publish: their message gets the cause. */
const STOP_CODES = new Set(['PUBLISH_STOPPED']);

/**
 * The cause of the stops the core is making now: one per channel while staff act on it, or one for every channel
 * while the appliance stops. Without one, the encoder ended the publish.
 */
export class StopCauses {
  private all: StopCause | undefined;
  private readonly byEntry = new Map<string, StopCause>();

  /** The cause of a stop of `entryId` now. */
  of(entryId: string): StopCause | 'encoder' {
    return this.all ?? this.byEntry.get(entryId) ?? 'encoder';
  }

  /** Runs `action` with `cause` as the reason for the channel's stops; nested causes keep the outer one. */
  async during<T>(entryId: string, cause: StopCause, action: () => Promise<T>): Promise<T> {
    const outer = this.byEntry.get(entryId);
    if (outer === undefined) this.byEntry.set(entryId, cause);
    try {
      return await action();
    } finally {
      if (outer === undefined) this.byEntry.delete(entryId);
    }
  }

  /** From now on every stop has this cause (the appliance is stopping). */
  setAll(cause: StopCause): void {
    this.all ??= cause;
  }
}

export function channelLog(channels: ChannelEventsSink, log: Logger, causes?: StopCauses): RecordEvent {
  return (entryId, level, code, message) => {
    if (!channels.get(entryId)) return;
    const text =
      causes && STOP_CODES.has(code) ? `${message}: ${STOP_CAUSE_TEXT[causes.of(entryId)]}` : message;
    channels.addEvent(entryId, level, code, text);
    log[level]({ entryId, code }, text);
  };
}
