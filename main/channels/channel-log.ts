/** What happens on a channel, written to its event list and the log (only for channels that exist). */
import type { Logger } from '../lib/logger.js';
import type { EventLevel } from './channel-store.js';

/** The channel store's event list, as the live parts need it. */
export interface ChannelEventsSink {
  get(entryId: string): unknown;
  addEvent(entryId: string, level: EventLevel, code: string, message: string): unknown;
}

export type RecordEvent = (entryId: string, level: EventLevel, code: string, message: string) => void;

export function channelLog(channels: ChannelEventsSink, log: Logger): RecordEvent {
  return (entryId, level, code, message) => {
    if (!channels.get(entryId)) return;
    channels.addEvent(entryId, level, code, message);
    log[level]({ entryId, code }, message);
  };
}
