/**
 * A channel's recording and publishing point options, as every panel that shows them reads them: fetched once per
 * panel and fetched again on the events that change them, so the header switch, the timeline and the options agree
 * without a refresh.
 */
import type { ControlEvent, PublishingPointView } from '@contract';
import { useControlEvents, useDebounced, useResource, useResync, type Resource } from '../../api/hooks.js';

/** Channel events after which recording, the options or the archive may have changed. */
export const RECORDING_EVENT =
  /^(RECORDING_ON|RECORDING_OFF|OPTIONS_CHANGED|PUBLISHING_POINT_(CREATED|UPDATED|DELETED)|PURGE_DONE|RESTART_DONE)$/;

/** Whether a control event may change what a channel records (or its options). */
export function changesRecording(e: ControlEvent, entryId: string): boolean {
  return e.type === 'channel.event' && e.entryId === entryId && RECORDING_EVENT.test(e.event.code);
}

/** The channel's publishing point view (404 before there is one), kept current by the channel's events. */
export function usePublishingPoint(entryId: string, state: string): Resource<PublishingPointView> {
  const resync = useResync();
  const pp = useResource('publishingPoints.get', { entryId }, `${entryId}-${state}-${resync}`);
  const reloadSoon = useDebounced(pp.reload, 200);
  useControlEvents((e) => {
    if (changesRecording(e, entryId)) reloadSoon();
  });
  return pp;
}
