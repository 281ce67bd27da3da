import { MAX_SLATE_IMAGE_BYTES } from '@contract';
import { useEffect, useState, type ChangeEvent } from 'react';
import { useAction, useResource } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

/** A file's bytes as base64 (without the data URL's prefix). */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsDataURL(file);
  });
}

/**
 * The slate shown (with silence) while a live channel's encoder is away: a preview, a file input that replaces it
 * with a PNG or JPEG, and a reset to the bundled "We'll be right back" card.
 */
export function SlateImage() {
  const current = useResource('slate.get', undefined, 'slate');
  const set = useAction('slate.set');
  const reset = useAction('slate.reset');
  const [tooLarge, setTooLarge] = useState<string | null>(null);
  const [shown, setShown] = useState(current.data);
  useEffect(() => setShown(current.data), [current.data]);
  const view = set.result ?? reset.result ?? shown;

  const choose = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setTooLarge(null);
    reset.reset();
    if (file.size > MAX_SLATE_IMAGE_BYTES) {
      setTooLarge(
        `${file.name} is ${Math.ceil(file.size / 1024)} KB; the slate image may be at most ${MAX_SLATE_IMAGE_BYTES / 1024} KB`,
      );
      return;
    }
    const done = await set.run({ image: await base64Of(file) });
    if (done) setShown(done);
  };
  const backToCard = async () => {
    set.reset();
    const done = await reset.run(undefined);
    if (done) setShown(done);
  };

  const minutes = view ? Math.round((view.durationSeconds / 60) * 10) / 10 : undefined;
  return (
    <div className="slate-image" data-testid="slate-image">
      <h2>Slate</h2>
      <p className="muted small">
        While a live channel&apos;s encoder is away, viewers see this picture with silence
        {minutes !== undefined && minutes > 0 ? `, for up to ${minutes} min` : ''} (
        <code>--slate-duration</code>), instead of a stalled player. It applies to the next slate.
      </p>
      {view ? (
        <figure className="slate-preview">
          <img src={view.dataUrl} alt="The slate viewers see while the encoder is away" />
          <figcaption className="muted small">{view.custom ? 'Your image' : 'The default card'}</figcaption>
        </figure>
      ) : null}
      <div className="slate-actions">
        <label className="button">
          Choose an image…
          <input
            type="file"
            accept="image/png,image/jpeg"
            disabled={set.busy || reset.busy}
            onChange={(e) => void choose(e)}
            data-testid="slate-file"
          />
        </label>
        <button
          type="button"
          disabled={!view?.custom || set.busy || reset.busy}
          onClick={() => void backToCard()}
        >
          Back to the default card
        </button>
      </div>
      <Progress text={set.busy ? 'Checking the image…' : reset.busy ? 'Resetting…' : null} />
      <ErrorAlert error={tooLarge ?? set.error} action="Could not use this image" />
      <ErrorAlert error={reset.error ?? current.error} action="Could not load the slate" />
    </div>
  );
}
