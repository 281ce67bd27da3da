import type { ChannelView } from '@contract';
import { CopyField } from '../../components/CopyField.js';

/** What to type into the encoder: OBS's server and stream key, and the full URLs for other encoders. */
export function EncoderPanel({ channel }: { channel: ChannelView }) {
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
    </div>
  );
}
