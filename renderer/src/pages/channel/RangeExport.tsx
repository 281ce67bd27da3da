import { useEffect, useId, useState } from 'react';
import type { SavedRangeView } from '@contract';
import { useAction, useBridge } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { formatBytes, formatDuration } from '../../format.js';
import type { Span } from './timeline-scale.js';

/** A file name for a range: the channel's entry id and the range's start, local time, as letters a library takes. */
export function rangeItemName(entryId: string, start: number): string {
  const d = new Date(start);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${entryId}_${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}.mp4`;
}

/**
 * What to do with the selected range of the timeline besides purging it: "Download MP4" (one file, best video
 * and its audio, no re-encoding; a one-time link so no credentials travel in it) and "Save to library" (an item of
 * a space, "Recordings" unless another is chosen).
 */
export function RangeExport({ entryId, selection }: { entryId: string; selection: Span | null }) {
  const id = useId();
  const bridge = useBridge();
  const link = useAction('publishingPoints.downloadLink');
  const save = useAction('publishingPoints.saveToLibrary');
  const spaces = useAction('library.spaces');
  const [name, setName] = useState('');
  const [spaceId, setSpaceId] = useState('');
  const [saved, setSaved] = useState<SavedRangeView | null>(null);
  const [downloading, setDownloading] = useState(false);
  const loadSpaces = spaces.run;
  useEffect(() => {
    void loadSpaces(undefined);
  }, [loadSpaces]);
  useEffect(() => {
    setName(selection ? rangeItemName(entryId, selection.start) : '');
    setSaved(null);
  }, [entryId, selection]);

  const range = selection
    ? { from: new Date(selection.start).toISOString(), to: new Date(selection.end).toISOString() }
    : null;
  const download = async () => {
    if (!range) return;
    setDownloading(true);
    const r = await link.run({ entryId, ...range });
    setDownloading(false);
    if (!r) return;
    // In a browser the dashboard is served by the admin listener: the link stays on this page's origin.
    const u = new URL(r.url);
    const href = bridge.transport === 'http' ? `${u.pathname}${u.search}` : r.url;
    const a = document.createElement('a');
    a.href = href;
    a.download = '';
    a.rel = 'noopener';
    document.body.appendChild(a);
    a.click();
    a.remove();
  };
  const saveToLibrary = async () => {
    if (!range) return;
    setSaved(null);
    const r = await save.run({ entryId, ...range, name: name.trim(), ...(spaceId ? { spaceId } : {}) });
    if (r) {
      setSaved(r);
      void loadSpaces(undefined);
    }
  };
  const list = spaces.result?.spaces ?? [];
  return (
    <fieldset className="range-export" data-testid="range-export">
      <legend>Keep the selected range</legend>
      <p className="muted small">
        {selection
          ? `${formatDuration(selection.end - selection.start)} selected: download it as one MP4 or save it to the library.`
          : 'Select a range on the timeline (drag over the tracks, or type its start and end) to download or save it.'}
      </p>
      <div className="button-row">
        <button type="button" disabled={!selection || downloading} onClick={() => void download()}>
          Download MP4
        </button>
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name in the library</label>
        <input
          id={`${id}-name`}
          value={name}
          maxLength={128}
          pattern="[A-Za-z0-9_\-][A-Za-z0-9._\-]*"
          disabled={!selection}
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-space`}>Space</label>
        <select
          id={`${id}-space`}
          value={spaceId}
          disabled={!selection}
          onChange={(e) => setSpaceId(e.target.value)}
        >
          <option value="">
            {list.some((s) => s.name === 'Recordings') ? 'Recordings' : 'Recordings (new)'}
          </option>
          {list
            .filter((s) => s.name !== 'Recordings')
            .map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.items} item{s.items === 1 ? '' : 's'})
              </option>
            ))}
        </select>
      </div>
      <div className="button-row">
        <button
          type="button"
          className="primary"
          disabled={!selection || save.busy || name.trim() === ''}
          onClick={() => void saveToLibrary()}
        >
          Save to library
        </button>
      </div>
      <Progress
        text={save.busy ? 'Saving to the library…' : downloading ? 'Preparing the download…' : null}
      />
      {saved ? (
        <p className="success" role="status" data-testid="saved-to-library">
          Saved to {saved.spaceName} as {saved.name} ({formatBytes(saved.size)}
          {saved.duration ? `, ${formatDuration(saved.duration * 1000)}` : ''}).{' '}
          <a href={saved.hls} target="_blank" rel="noreferrer">
            Play it
          </a>
        </p>
      ) : null}
      <ErrorAlert error={link.error} action="Could not download the range" />
      <ErrorAlert error={save.error} action="Could not save to the library" />
    </fieldset>
  );
}
