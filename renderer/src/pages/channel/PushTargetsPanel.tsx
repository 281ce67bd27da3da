import { useEffect, useId, useState, type FormEvent } from 'react';
import type { PushTargetView } from '@contract';
import { useAction, useControlEvents, useDebounced, useResource } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

/** The name of the target the eCDN offer makes (the entry's broadcast URL at Kaltura). */
const KALTURA_TARGET_NAME = 'Kaltura cloud';

/** While a push is live its byte count is read again this often. */
const LIVE_REFRESH_MS = 2000;

const STATE_TEXT: Record<PushTargetView['state'], string> = {
  idle: 'Waiting for the channel to go live',
  connecting: 'Connecting…',
  live: 'Live',
  retrying: 'Retrying',
  disabled: 'Disabled',
};

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

function uptime(since: string | undefined): string {
  if (!since) return '';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * "Also send to": push targets of the channel (the Kaltura cloud entry, YouTube, another appliance). Each runs on
 * its own: a failing one retries and never disturbs the stream or the others. URLs are shown masked.
 */
export function PushTargetsPanel({
  entryId,
  kalturaUrl,
}: {
  entryId: string;
  kalturaUrl?: string | undefined;
}) {
  const id = useId();
  const targets = useResource('targets.list', { entryId }, entryId);
  const refetch = useDebounced(targets.reload, 200);
  useControlEvents((e) => {
    if (e.type === 'targets.changed' && e.entryId === entryId) refetch();
  });
  const anyLive = (targets.data?.targets ?? []).some((t) => t.state === 'live');
  useEffect(() => {
    if (!anyLive) return;
    const timer = setInterval(targets.reload, LIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [anyLive, targets.reload]);
  const create = useAction('targets.create');
  const update = useAction('targets.update');
  const remove = useAction('targets.delete');
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [rendition, setRendition] = useState('source');
  const [deleting, setDeleting] = useState<PushTargetView | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = rendition.trim();
    const body = {
      entryId,
      url: url.trim(),
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(r && r !== 'source' ? { rendition: r } : {}),
    };
    if (await create.run(body)) {
      setUrl('');
      setName('');
      setRendition('source');
      targets.reload();
    }
  };
  const list = targets.data?.targets ?? [];
  const offerKaltura = kalturaUrl !== undefined && !list.some((t) => t.name === KALTURA_TARGET_NAME);
  return (
    <div className="push-targets" data-testid="push-targets">
      <p className="muted small">
        The encoder&apos;s stream, copied as it arrives, also goes to each target below (an RTMP, RTMPS or SRT
        URL: the partner&apos;s Kaltura entry, YouTube, another appliance). A target that fails retries on its
        own and never disturbs the event.
      </p>
      {list.length === 0 ? <p className="muted">No push targets.</p> : null}
      {offerKaltura ? (
        <p className="inline-action" data-testid="kaltura-offer">
          <button
            type="button"
            disabled={create.busy}
            onClick={async () => {
              if (await create.run({ entryId, url: kalturaUrl, name: KALTURA_TARGET_NAME })) targets.reload();
            }}
          >
            Also send to the Kaltura cloud
          </button>
          <span className="muted small">
            {' '}
            The entry&apos;s own broadcast URL at Kaltura, as the partner&apos;s service gave it: remote
            viewers watch from the cloud.
          </span>
        </p>
      ) : null}
      <ul className="target-list">
        {list.map((t) => (
          <li key={t.id} data-testid="push-target" data-state={t.state}>
            <strong>{t.name}</strong> <code>{t.url}</code>
            {t.rendition !== 'source' ? <span className="muted small"> {t.rendition} rendition</span> : null}
            <span className={`badge state-${t.state}`}>{STATE_TEXT[t.state]}</span>
            {t.state === 'live' ? (
              <span className="muted small">
                {' '}
                {bytes(t.bytesSent)} sent, up {uptime(t.liveSince)}
              </span>
            ) : null}
            {t.state === 'retrying' && t.lastError ? (
              <span className="muted small" role="status">
                {' '}
                {t.lastError}
              </span>
            ) : null}
            <span className="inline-action">
              <button
                type="button"
                disabled={update.busy}
                onClick={async () => {
                  if (await update.run({ entryId, targetId: t.id, enabled: !t.enabled })) targets.reload();
                }}
              >
                {t.enabled ? 'Disable' : 'Enable'}
              </button>
              <button type="button" onClick={() => setDeleting(t)} aria-label={`Remove target ${t.name}`}>
                Remove
              </button>
            </span>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={deleting !== null}
        title={`Remove ${deleting?.name ?? 'the target'}?`}
        confirmLabel="Remove target"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const t = deleting;
          setDeleting(null);
          if (t && (await remove.run({ entryId, targetId: t.id }))) targets.reload();
        }}
      >
        <p>
          {deleting?.state === 'live'
            ? 'It is live now: its viewers stop receiving the event at once.'
            : 'Nothing is sent to it any more.'}
        </p>
      </ConfirmDialog>
      <form className="inline-form" onSubmit={submit} aria-labelledby={`${id}-h`}>
        <h3 id={`${id}-h`}>Add a target</h3>
        <div className="field">
          <label htmlFor={`${id}-url`}>Target URL (holds its stream key)</label>
          <input
            id={`${id}-url`}
            type="password"
            autoComplete="off"
            value={url}
            placeholder="rtmps://… or srt://host:port?streamid=…"
            onChange={(e) => setUrl(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name (optional)</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-rendition`}>Rendition</label>
          <input
            id={`${id}-rendition`}
            value={rendition}
            list={`${id}-renditions`}
            onChange={(e) => setRendition(e.target.value)}
            aria-describedby={`${id}-rendition-hint`}
          />
          <datalist id={`${id}-renditions`}>
            <option value="source" />
            <option value="720" />
            <option value="360" />
          </datalist>
          <p className="muted small" id={`${id}-rendition-hint`}>
            “source”: the encoder&apos;s stream as it arrives; or a rendition of the conversion profile (such
            as 720), copied from the origin a few seconds later.
          </p>
        </div>
        <button type="submit" disabled={create.busy || url.trim() === ''}>
          Add target
        </button>
      </form>
      <Progress text={create.busy ? 'Adding…' : null} />
      <ErrorAlert error={targets.error} action="Could not list the push targets" />
      <ErrorAlert error={create.error} action="Could not add the target" />
      <ErrorAlert error={update.error} action="Could not change the target" />
      <ErrorAlert error={remove.error} action="Could not remove the target" />
    </div>
  );
}
