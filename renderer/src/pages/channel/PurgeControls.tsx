import { useEffect, useId, useState } from 'react';
import { formatDuration, fromLocalInput, toLocalInput } from '../../format.js';
import type { Span } from './timeline-scale.js';

/**
 * Purge controls: the selection as two time inputs (for keyboard users; dragging on the timeline fills them),
 * "Purge selection", and "Keep last" N minutes.
 */
export function PurgeControls({
  selection,
  onSelection,
  onPurgeSelection,
  onKeepLast,
  busy,
}: {
  selection: Span | null;
  onSelection: (s: Span | null) => void;
  onPurgeSelection: () => void;
  onKeepLast: (seconds: number) => void;
  busy: boolean;
}) {
  const id = useId();
  const [startText, setStartText] = useState('');
  const [endText, setEndText] = useState('');
  const [minutes, setMinutes] = useState('5');
  useEffect(() => {
    setStartText(selection ? toLocalInput(selection.start) : '');
    setEndText(selection ? toLocalInput(selection.end) : '');
  }, [selection]);
  const typed = (start: string, end: string) => {
    const a = fromLocalInput(start);
    const b = fromLocalInput(end);
    if (Number.isFinite(a) && Number.isFinite(b) && b > a) onSelection({ start: a, end: b });
  };
  const minutesValue = Number(minutes);
  const minutesOk = minutes.trim() !== '' && Number.isFinite(minutesValue) && minutesValue >= 0;
  return (
    <div className="purge-controls">
      <fieldset>
        <legend>Selected range</legend>
        <div className="field">
          <label htmlFor={`${id}-start`}>Selection start</label>
          <input
            id={`${id}-start`}
            type="datetime-local"
            step={1}
            value={startText}
            onChange={(e) => {
              setStartText(e.target.value);
              typed(e.target.value, endText);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-end`}>Selection end</label>
          <input
            id={`${id}-end`}
            type="datetime-local"
            step={1}
            value={endText}
            onChange={(e) => {
              setEndText(e.target.value);
              typed(startText, e.target.value);
            }}
          />
        </div>
        <p className="muted small" data-testid="selection-length">
          {selection ? `${formatDuration(selection.end - selection.start)} selected` : 'Nothing selected'}
        </p>
        <div className="button-row">
          <button type="button" className="danger" disabled={busy || !selection} onClick={onPurgeSelection}>
            Purge selection
          </button>
          <button type="button" disabled={!selection} onClick={() => onSelection(null)}>
            Clear selection
          </button>
        </div>
      </fieldset>
      <fieldset>
        <legend>Keep only the end of the archive</legend>
        <div className="field">
          <label htmlFor={`${id}-keep`}>Minutes to keep</label>
          <input
            id={`${id}-keep`}
            type="number"
            min={0}
            step="any"
            inputMode="decimal"
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
          />
        </div>
        <button
          type="button"
          className="danger"
          disabled={busy || !minutesOk}
          onClick={() => onKeepLast(Math.round(minutesValue * 60))}
        >
          Keep last
        </button>
      </fieldset>
    </div>
  );
}
