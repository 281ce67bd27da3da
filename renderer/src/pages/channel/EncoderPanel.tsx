import { useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

type Tab = 'obs' | 'ffmpeg' | 'other';
const TABS: Array<[Tab, string]> = [
  ['obs', 'OBS'],
  ['ffmpeg', 'ffmpeg'],
  ['other', 'Other encoders'],
];

/**
 * What to type into the encoder, one tab per kind: OBS's Server and Stream Key (and the backup server), one complete
 * ffmpeg command, or the one URL other encoders take. The stream token in the URLs is masked until "Show".
 */
export function EncoderPanel({ channel, ecdn = false }: { channel: ChannelView; ecdn?: boolean }) {
  const [asking, setAsking] = useState(false);
  const [tab, setTab] = useState<Tab>('obs');
  const rotate = useAction('channels.rotateToken');
  const full = `${channel.broadcastUrl}/${channel.rtmp.streamKey}`;
  const command = `ffmpeg -re -i <your source> -c:v libx264 -preset veryfast -g 60 -keyint_min 60 -c:a aac -b:a 128k -f flv "${full}"`;
  const token = channel.token || undefined;
  return (
    <div className="encoder" data-testid="encoder-panel">
      <div role="tablist" aria-label="Encoder" className="tabs">
        {TABS.map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`encoder-tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`encoder-panel-${t}`}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="encoder-panel-obs" aria-labelledby="encoder-tab-obs" hidden={tab !== 'obs'}>
        <p className="muted">
          Settings → Stream → Service “Custom…”, then Server and Stream Key below; key frames every 2 s, H.264
          and AAC. A backup encoder uses the backup server with the same stream key.
        </p>
        <CopyField label="Server" value={channel.rtmp.server} testId="rtmp-server" secret={token} />
        <CopyField label="Stream key" value={channel.rtmp.streamKey} testId="stream-key" />
        <CopyField
          label="Backup server"
          value={channel.rtmp.backupServer}
          testId="rtmp-backup-server"
          secret={token}
        />
      </div>
      <div
        role="tabpanel"
        id="encoder-panel-ffmpeg"
        aria-labelledby="encoder-tab-ffmpeg"
        hidden={tab !== 'ffmpeg'}
      >
        <p className="muted">
          One command: replace &lt;your source&gt; with a file, a camera or a capture device.
        </p>
        <CopyField label="ffmpeg command" value={command} testId="ffmpeg-command" secret={token} />
      </div>
      <div
        role="tabpanel"
        id="encoder-panel-other"
        aria-labelledby="encoder-tab-other"
        hidden={tab !== 'other'}
      >
        <p className="muted">Encoders that take one URL: the broadcast URL, then “/” and the stream key.</p>
        <CopyField label="ffmpeg URL" value={full} testId="ffmpeg-url" secret={token} />
        <CopyField label="Broadcast URL" value={channel.broadcastUrl} testId="broadcast-url" secret={token} />
        <CopyField
          label="Backup broadcast URL"
          value={channel.backupBroadcastUrl}
          testId="backup-broadcast-url"
          secret={token}
        />
      </div>
      {ecdn ? null : (
        <div className="inline-action">
          <button type="button" disabled={rotate.busy} onClick={() => setAsking(true)}>
            Regenerate token
          </button>
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
