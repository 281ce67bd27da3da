import { useCallback, useEffect, useId, useState } from 'react';
import type { ArchiveView, ChannelView, ControlErrorValue, PurgeBody } from '@contract';
import { useAction, useBridge, useControlEvents, useDebounced, useResync } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { useNow } from '../../components/useNow.js';
import { formatDateTime, formatDuration } from '../../format.js';
import { ArchiveRangesList } from './ArchiveRangesList.js';
import { ArchiveTimeline } from './ArchiveTimeline.js';
import { PurgeControls } from './PurgeControls.js';
import { RangeExport } from './RangeExport.js';
import { fitSpan, panSpan, zoomSpan, type Span } from './timeline-scale.js';
import { changesRecording } from './use-recording.js';

type Pending = { kind: 'range'; span: Span } | { kind: 'keep'; seconds: number };

const RELOAD_CODES = new Set(['PURGE_DONE', 'RESTART_DONE', 'RESTART_FAILED', 'PUBLISH_STARTED']);

/**
 * The archive of a channel as a panel: its timeline, refreshed while live, purging (selection or keep last N), and
 * the selection downloaded as MP4 or saved to the library. Called "Timeline" while nothing is recorded (only the
 * DVR window is kept) and "Archive" while recording; hidden while `hideWhenEmpty` and there is nothing to show.
 */
export function ArchivePanel({
  channel,
  hideWhenEmpty = false,
}: {
  channel: ChannelView;
  hideWhenEmpty?: boolean;
}) {
  const headingId = useId();
  const bridge = useBridge();
  const resync = useResync();
  const entryId = channel.entryId;
  const live = channel.state === 'started' || channel.state === 'starting';
  const [archive, setArchive] = useState<ArchiveView | null>(null);
  const [error, setError] = useState<ControlErrorValue | null>(null);
  const [skew, setSkew] = useState(0);
  const [follow, setFollow] = useState(true);
  const [manualSpan, setManualSpan] = useState<Span | null>(null);
  const [selection, setSelection] = useState<Span | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const purge = useAction('publishingPoints.purge');
  const now = useNow(1000) + skew;

  const load = useCallback(async () => {
    const r = await bridge.invoke('publishingPoints.archive', { entryId });
    if (r.ok) {
      setArchive(r.value);
      setSkew(Date.parse(r.value.now) - Date.now() || 0);
      setError(null);
    } else if (r.error.status === 404) {
      setArchive(null);
      setError(null);
    } else setError(r.error);
  }, [bridge, entryId]);
  const reloadSoon = useDebounced(() => void load(), 300);

  useEffect(() => {
    void load();
  }, [load, resync, channel.state]);
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => void load(), 4000);
    return () => clearInterval(t);
  }, [live, load]);
  useControlEvents((e) => {
    if (e.type !== 'channel.event' || e.entryId !== entryId) return;
    if (e.event.code.startsWith('PURGE_')) setProgress(e.event.message);
    if (RELOAD_CODES.has(e.event.code) || changesRecording(e, entryId)) reloadSoon();
  });

  const span = follow || !manualSpan ? fitSpan(archive, now) : manualSpan;
  const setSpan = (s: Span) => {
    setFollow(false);
    setManualSpan(s);
  };
  const fit = () => {
    setFollow(true);
    setManualSpan(null);
  };

  const run = async (p: Pending) => {
    setPending(null);
    setOutcome(null);
    setProgress('Purging…');
    const body: PurgeBody =
      p.kind === 'range'
        ? { start: new Date(p.span.start).toISOString(), end: new Date(p.span.end).toISOString() }
        : { keepSeconds: p.seconds };
    const r = await purge.run({ entryId, ...body });
    setProgress(null);
    if (r) {
      setOutcome(
        r.purged === 0
          ? 'Nothing to purge there.'
          : `Purged ${r.purged} fragment${r.purged === 1 ? '' : 's'}.`,
      );
      if (p.kind === 'range') setSelection(null);
    }
    await load();
  };

  const trackCount = archive?.tracks.length ?? 0;
  const rangeCount = archive?.tracks.reduce((n, t) => n + t.ranges.length, 0) ?? 0;
  // Turning recording off needs the archive purged: while it is off, nothing beyond the DVR window is recorded.
  const title = archive?.archiving ? 'Archive' : 'Timeline';
  return (
    <section
      className="card archive-panel"
      aria-labelledby={headingId}
      data-testid="archive-panel"
      hidden={hideWhenEmpty && rangeCount === 0}
    >
      <h2 id={headingId}>{title}</h2>
      <div className="archive">
        <div className="toolbar" role="toolbar" aria-label="Timeline view">
          <button type="button" onClick={() => setSpan(zoomSpan(span, 0.66))}>
            Zoom in
          </button>
          <button type="button" onClick={() => setSpan(zoomSpan(span, 1.5))}>
            Zoom out
          </button>
          <button type="button" onClick={() => setSpan(panSpan(span, -0.25))}>
            Pan left
          </button>
          <button type="button" onClick={() => setSpan(panSpan(span, 0.25))}>
            Pan right
          </button>
          <button type="button" aria-pressed={follow} onClick={fit}>
            Show all
          </button>
          <button type="button" onClick={() => void load()}>
            Refresh
          </button>
          <span className="muted small" data-testid="archive-summary">
            {archive
              ? `${trackCount} track${trackCount === 1 ? '' : 's'}, ${rangeCount} range${rangeCount === 1 ? '' : 's'}` +
                ` · DVR window ${archive.dvrWindow.seconds} s` +
                (archive.archiving ? ' · archiving' : ' · not archiving')
              : ''}
          </span>
        </div>
        {archive ? (
          archive.tracks.length > 0 ? (
            <ArchiveTimeline
              archive={archive}
              now={now}
              span={span}
              onSpan={setSpan}
              onFit={fit}
              selection={selection}
              onSelection={setSelection}
            />
          ) : (
            <p className="empty" data-testid="archive-empty">
              The archive is empty.
            </p>
          )
        ) : (
          <p className="empty" data-testid="archive-empty">
            No archive yet: it starts when the encoder first publishes.
          </p>
        )}
        <div className="legend muted small" aria-hidden="true">
          <span className="swatch range-primary" /> primary ingest <span className="swatch range-backup" />{' '}
          backup ingest <span className="swatch gap" /> gap <span className="swatch dvr" /> DVR window
        </div>
        {archive ? <ArchiveRangesList archive={archive} /> : null}
        <PurgeControls
          selection={selection}
          onSelection={setSelection}
          busy={purge.busy}
          onPurgeSelection={() => selection && setPending({ kind: 'range', span: selection })}
          onKeepLast={(seconds) => setPending({ kind: 'keep', seconds })}
        />
        <ConfirmDialog
          open={pending !== null}
          title={pending?.kind === 'keep' ? 'Keep only the end of the archive?' : 'Purge the selected range?'}
          confirmLabel="Purge now"
          onCancel={() => setPending(null)}
          onConfirm={() => pending && void run(pending)}
        >
          {pending?.kind === 'range' ? (
            <p>
              Every track’s fragments from {formatDateTime(pending.span.start)} to{' '}
              {formatDateTime(pending.span.end)} ({formatDuration(pending.span.end - pending.span.start)}) are
              deleted. This cannot be undone.
            </p>
          ) : pending?.kind === 'keep' ? (
            <p>
              {pending.seconds === 0
                ? 'The whole archive is deleted.'
                : `Everything but the last ${formatDuration(pending.seconds * 1000)} of the archive is deleted.`}{' '}
              This cannot be undone.
            </p>
          ) : null}
        </ConfirmDialog>
        <Progress text={purge.busy ? (progress ?? 'Purging…') : null} testId="purge-progress" />
        {outcome ? (
          <p className="success" role="status" data-testid="purge-outcome">
            {outcome}
          </p>
        ) : null}
        <RangeExport entryId={entryId} selection={selection} />
        <ErrorAlert error={purge.error} action="Could not purge" />
        <ErrorAlert error={error} action="Could not load the archive" />
      </div>
    </section>
  );
}
