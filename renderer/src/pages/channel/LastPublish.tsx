import type { ChannelView } from '@contract';
import { useNow } from '../../components/useNow.js';
import { formatDuration } from '../../format.js';

/**
 * The channel's last publish attempt, under its header: a refusal in plain words with the fix ("wrong token:
 * compare with the Server field"), where staff look when the encoder says it is streaming and the channel is not
 * live. An accepted attempt is one quiet line.
 */
export function LastPublish({ channel }: { channel: ChannelView }) {
  const now = useNow(1000);
  const a = channel.lastPublish;
  if (!a) return null;
  const ago = `${formatDuration(Math.max(0, now - Date.parse(a.at)))} ago`;
  const via = a.transport === 'srt' ? 'SRT' : 'RTMP';
  if (a.accepted) {
    return (
      <p className="muted small" data-testid="last-publish" data-accepted="true">
        Last publish: accepted from {a.remote} over {via}, {ago}.
      </p>
    );
  }
  return (
    <div className="last-publish warning" role="status" data-testid="last-publish" data-accepted="false">
      <p>
        <strong>Last publish refused</strong> ({via} from {a.remote}, {ago}): {a.message}
      </p>
      {a.fix ? <p data-testid="last-publish-fix">{a.fix}</p> : null}
    </div>
  );
}
