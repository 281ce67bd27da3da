import { useEffect, useRef, useState } from 'react';
import type { ChannelView } from '@contract';
import { usePlaybackUrl } from '../../api/use-playback-url.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

const RETRY_MS = 2500;

/** The channel's HLS preview in hls.js (a signed URL when the channel is secure), retried while it is live. */
export function PreviewPlayer({ channel }: { channel: ChannelView }) {
  const video = useRef<HTMLVideoElement>(null);
  // Signed again at once when the channel's links are revoked (a new signature generation).
  const { url: src, error } = usePlaybackUrl(channel);
  const [status, setStatus] = useState('Loading the preview…');
  const [attempt, setAttempt] = useState(0);
  const live = channel.state === 'started' || channel.state === 'starting';

  useEffect(() => {
    const el = video.current;
    if (!src || !el) return;
    let disposed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let hls: { destroy(): void } | undefined;
    setStatus(live ? 'Loading the preview…' : 'Loading the recording…');
    void import('hls.js').then(({ default: Hls }) => {
      if (disposed) return;
      if (!Hls.isSupported()) {
        if (el.canPlayType('application/vnd.apple.mpegurl')) {
          el.src = src;
          void el.play().catch(() => undefined);
          setStatus('');
        } else setStatus('This browser cannot play HLS.');
        return;
      }
      const player = new Hls({
        liveDurationInfinity: true,
        backBufferLength: 30,
        lowLatencyMode: true,
        maxLiveSyncPlaybackRate: 1.5,
      });
      hls = player;
      player.on(Hls.Events.MANIFEST_PARSED, () => {
        setStatus('');
        el.play().catch((err: Error) => setStatus(`Press play to start the preview (${err.message}).`));
      });
      player.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        player.destroy();
        if (hls === player) hls = undefined;
        if (live) {
          setStatus('Waiting for the stream…');
          retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
        } else setStatus('Nothing to preview: the channel is not live and has no recording yet.');
      });
      player.loadSource(src);
      player.attachMedia(el);
    });
    return () => {
      disposed = true;
      clearTimeout(retry);
      hls?.destroy();
    };
  }, [src, attempt, live]);

  return (
    <div className="preview">
      <video
        ref={video}
        className="preview-video"
        muted
        autoPlay
        playsInline
        controls
        aria-label={`Preview of ${channel.name}`}
        data-testid="preview-video"
      />
      <p className="muted" role="status" data-testid="preview-status">
        {status}
      </p>
      <ErrorAlert error={error} action="Could not make a signed preview URL" />
    </div>
  );
}
