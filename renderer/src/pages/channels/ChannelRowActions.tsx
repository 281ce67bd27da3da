import { useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { copyText } from '../../components/copy-text.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { watchUrl } from './channel-health.js';

/** Viewer links of a secure channel last 8 hours, as the share card's. */
const SIGNED_SECONDS = 8 * 3600;

/**
 * Watch (the portal's watch page, in a new tab) and Copy link (its address) for one channel of the list; a secure
 * channel's page is signed first (8 hours).
 */
export function ChannelRowActions({
  channel,
  origin,
  describedBy,
}: {
  channel: ChannelView;
  origin: string | undefined;
  /** The id of the row's channel name: the actions say which channel they act on without repeating its name. */
  describedBy?: string;
}) {
  const sign = useAction('channels.signedUrl');
  const [note, setNote] = useState('');
  const secure = channel.access === 'secure';
  const plain = watchUrl(origin, channel.entryId);
  const link = async (): Promise<string> => {
    if (!secure) return plain;
    const r = await sign.run({ entryId: channel.entryId, expiresIn: SIGNED_SECONDS });
    return r ? watchUrl(origin, channel.entryId, new URL(r.url).search) : '';
  };
  if (!origin) return null;
  return (
    <>
      {secure ? (
        <button
          type="button"
          disabled={sign.busy}
          aria-describedby={describedBy}
          title="Opens a signed viewer page (8 hours)"
          data-testid="watch-channel"
          onClick={async () => {
            const url = await link();
            if (url) window.open(url, '_blank', 'noopener');
          }}
        >
          Watch
        </button>
      ) : (
        <a
          className="button-link"
          href={plain}
          target="_blank"
          rel="noreferrer"
          aria-describedby={describedBy}
          data-testid="watch-channel"
        >
          Watch
        </a>
      )}
      <button
        type="button"
        disabled={sign.busy}
        aria-describedby={describedBy}
        data-testid="copy-channel-link"
        onClick={async () => {
          const url = await link();
          if (!url) return;
          const ok = await copyText(url);
          setNote(ok ? 'Copied' : url);
          setTimeout(() => setNote(''), 4000);
        }}
      >
        Copy link
      </button>
      <span className="small muted" role="status" data-testid="copy-note">
        {note}
      </span>
      <ErrorAlert error={sign.error} action="Could not sign the viewer link" />
    </>
  );
}
