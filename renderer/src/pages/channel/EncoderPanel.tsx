import { useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/** What to type into the encoder: OBS's server and stream key, and the full URLs for other encoders. */
export function EncoderPanel({ channel, ecdn = false }: { channel: ChannelView; ecdn?: boolean }) {
  const [asking, setAsking] = useState(false);
  const rotate = useAction('channels.rotateToken');
  return (
    <div className="encoder" data-testid="encoder-panel">
      <p className="muted">
        OBS: Settings → Stream → Service “Custom…”, then Server and Stream Key below; key frames every 2 s,
        H.264 and AAC. A backup encoder uses the backup server with the same stream key.
      </p>
      <CopyField label="Server" value={channel.rtmp.server} testId="rtmp-server" />
      <CopyField label="Stream key" value={channel.rtmp.streamKey} testId="stream-key" />
      <CopyField label="Backup server" value={channel.rtmp.backupServer} testId="rtmp-backup-server" />
      <p className="muted">Other encoders: the broadcast URL, then “/” and the stream key.</p>
      <CopyField label="Broadcast URL" value={channel.broadcastUrl} testId="broadcast-url" />
      <CopyField
        label="Backup broadcast URL"
        value={channel.backupBroadcastUrl}
        testId="backup-broadcast-url"
      />
      <CopyField
        label="ffmpeg URL"
        value={`${channel.broadcastUrl}/${channel.rtmp.streamKey}`}
        testId="ffmpeg-url"
      />
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
