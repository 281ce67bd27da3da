import { useEffect, useState } from 'react';
import QRCode from 'qrcode';
import type { ChannelView } from '@contract';
import { useAction, useResource } from '../../api/hooks.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/** The watch page's QR code, as an SVG data URL (the dashboard's CSP allows data: images). */
function useQrCode(text: string | null): string | null {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!text) {
      setSrc(null);
      return;
    }
    let live = true;
    void QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }).then((svg) => {
      if (live) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
    });
    return () => {
      live = false;
    };
  }, [text]);
  return src;
}

/**
 * "Share with viewers": the viewer portal's watch page for this channel (Copy, a QR code to scan from a phone on
 * the LAN, the embed snippet, open it). A secure channel's page needs a signed link: "Make a signed viewer page" gives the
 * signed watch page (8 hours).
 */
export function ShareCard({ channel }: { channel: ChannelView }) {
  const status = useResource('status.get', undefined, 'status');
  const sign = useAction('channels.signedUrl');
  const origin = status.data?.urls.origin.replace(/\/$/, '') ?? null;
  const secure = channel.access === 'secure';
  const signedQuery = sign.result ? new URL(sign.result.url).search : null;
  const watch =
    origin === null
      ? null
      : secure
        ? signedQuery && `${origin}/watch/${encodeURIComponent(channel.entryId)}${signedQuery}`
        : `${origin}/watch/${encodeURIComponent(channel.entryId)}`;
  const embed = watch?.replace('/watch/', '/embed/') ?? null;
  const qr = useQrCode(watch);
  // A new signature generation (links revoked) or a change of access: a signed page made before is gone.
  const { reset } = sign;
  useEffect(() => reset(), [channel.access, channel.signedGeneration, reset]);
  return (
    <div className="share" data-testid="share-card">
      {secure && !watch ? (
        <p>
          The channel is secure: viewers need a signed link.{' '}
          <button
            type="button"
            disabled={sign.busy}
            onClick={() => void sign.run({ entryId: channel.entryId })}
          >
            Make a signed viewer page
          </button>
        </p>
      ) : null}
      {watch ? (
        <div className="share-grid">
          <div>
            <CopyField label="Viewer page" value={watch} testId="watch-url" />
            {embed ? (
              <CopyField
                label="Embed"
                value={`<iframe src="${embed}" width="960" height="540" allow="autoplay; fullscreen" allowfullscreen></iframe>`}
                testId="embed-snippet"
              />
            ) : null}
            <p>
              <a href={watch} target="_blank" rel="noreferrer">
                Open viewer page
              </a>
              {secure && sign.result ? (
                <span className="muted small">
                  {' '}
                  (signed, valid until {new Date(sign.result.expiresAt).toLocaleString()})
                </span>
              ) : null}
            </p>
          </div>
          {qr ? (
            <img
              className="qr"
              src={qr}
              alt={`QR code of ${watch}`}
              width={160}
              height={160}
              data-testid="watch-qr"
            />
          ) : null}
        </div>
      ) : null}
      <ErrorAlert error={status.error} action="Could not read the viewer address" />
      <ErrorAlert error={sign.error} action="Could not make a signed link" />
    </div>
  );
}
