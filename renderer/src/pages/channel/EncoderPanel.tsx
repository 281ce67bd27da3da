import { useState, type ReactNode } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { SrtEncoderSettings } from './SrtEncoderSettings.js';
import { UrlField } from './UrlField.js';

/** What every tab gets: the channel and its stream token (masked in the fields until "Show"). */
interface TabContext {
  channel: ChannelView;
  token: string | undefined;
  ecdn: boolean;
}

/** One kind of encoder: its tab's label and what it shows. Add a kind by adding an entry to {@link ENCODER_TABS}. */
interface EncoderTab {
  id: string;
  label: string;
  render: (c: TabContext) => ReactNode;
}

/** The one ffmpeg command that publishes to the channel. */
export function ffmpegCommand(channel: ChannelView): string {
  const url = `${channel.broadcastUrl}/${channel.rtmp.streamKey}`;
  return `ffmpeg -re -i <your source> -c:v libx264 -preset veryfast -g 60 -keyint_min 60 -c:a aac -b:a 128k -f flv "${url}"`;
}

export const ENCODER_TABS: EncoderTab[] = [
  {
    id: 'obs',
    label: 'OBS',
    render: ({ channel, token }) => (
      <>
        <p className="muted">
          Settings → Stream → Service “Custom…”, then Server and Stream Key below; key frames every 2 s, H.264
          and AAC.
        </p>
        <UrlField
          label="Server"
          value={channel.rtmp.server}
          testId="rtmp-server"
          secret={token}
          compareTo={channel.rtmp.backupServer}
        />
        <CopyField label="Stream key" value={channel.rtmp.streamKey} testId="stream-key" />
        <details className="encoder-backup">
          <summary>A backup encoder</summary>
          <p className="muted small">The same stream key, this server:</p>
          <UrlField
            label="Backup server"
            value={channel.rtmp.backupServer}
            testId="rtmp-backup-server"
            secret={token}
            compareTo={channel.rtmp.server}
          />
        </details>
      </>
    ),
  },
  {
    id: 'ffmpeg',
    label: 'ffmpeg',
    render: ({ channel, token }) => (
      <>
        <p className="muted">
          One command: replace &lt;your source&gt; with a file, a camera or a capture device.
        </p>
        <CopyField
          label="ffmpeg command"
          value={ffmpegCommand(channel)}
          testId="ffmpeg-command"
          secret={token}
        />
      </>
    ),
  },
  {
    id: 'srt',
    label: 'SRT',
    render: ({ channel, token, ecdn }) => <SrtEncoderSettings channel={channel} token={token} ecdn={ecdn} />,
  },
  {
    id: 'other',
    label: 'Other encoders',
    render: ({ channel, token }) => (
      <>
        <p className="muted">
          Encoders that take one URL: this one (the broadcast URL, “/”, the stream key).
        </p>
        <UrlField
          label="Stream URL"
          value={`${channel.broadcastUrl}/${channel.rtmp.streamKey}`}
          testId="ffmpeg-url"
          secret={token}
        />
        <details className="encoder-backup">
          <summary>Encoders that want the URL and the stream key apart, or a backup</summary>
          <UrlField
            label="Broadcast URL"
            value={channel.broadcastUrl}
            testId="broadcast-url"
            secret={token}
            compareTo={channel.backupBroadcastUrl}
          />
          <UrlField
            label="Backup broadcast URL"
            value={channel.backupBroadcastUrl}
            testId="backup-broadcast-url"
            secret={token}
            compareTo={channel.broadcastUrl}
          />
        </details>
      </>
    ),
  },
];

/**
 * What to type into the encoder, one tab per kind of encoder ({@link ENCODER_TABS}): OBS's Server and Stream Key,
 * one complete ffmpeg command, or the one URL other encoders take. The stream token is masked until "Show";
 * "Regenerate token" makes a new one (standalone; in eCDN mode the token is the Kaltura entry's).
 */
export function EncoderPanel({ channel, ecdn = false }: { channel: ChannelView; ecdn?: boolean }) {
  const [asking, setAsking] = useState(false);
  const [tab, setTab] = useState(ENCODER_TABS[0]?.id ?? '');
  const rotate = useAction('channels.rotateToken');
  const context: TabContext = { channel, token: channel.token || undefined, ecdn };
  return (
    <div className="encoder" data-testid="encoder-panel">
      <div role="tablist" aria-label="Encoder" className="tabs">
        {ENCODER_TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`encoder-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`encoder-panel-${t.id}`}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {ENCODER_TABS.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`encoder-panel-${t.id}`}
          aria-labelledby={`encoder-tab-${t.id}`}
          hidden={tab !== t.id}
        >
          {t.render(context)}
        </div>
      ))}
      {ecdn ? (
        <p className="muted small" data-testid="token-ecdn-note">
          The stream token is the Kaltura entry’s: to change it, regenerate it in Kaltura (KMC), then copy the
          new URLs from here.
        </p>
      ) : (
        <div className="inline-action">
          <button type="button" disabled={rotate.busy} onClick={() => setAsking(true)}>
            Regenerate token
          </button>
          {rotate.result && !rotate.busy ? (
            <span className="success small" role="status" data-testid="token-regenerated">
              New token made: give the encoders the new Server (or URL).
            </span>
          ) : null}
          <ConfirmDialog
            open={asking}
            title="Make a new stream token?"
            confirmLabel="Make a new token"
            onCancel={() => setAsking(false)}
            onConfirm={async () => {
              setAsking(false);
              await rotate.run({ entryId: channel.entryId });
            }}
          >
            <p>
              The current token stops working for new connections: every encoder needs the new stream key and
              broadcast URL on its next connection. An encoder that is live now keeps streaming.
            </p>
          </ConfirmDialog>
          <ErrorAlert error={rotate.error} action="Could not make a new token" />
        </div>
      )}
    </div>
  );
}
