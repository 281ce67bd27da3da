import { useEffect, useRef, useState } from 'react';
import type { ChannelView, ControlErrorValue } from '@contract';
import { useBridge } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/** Signed preview URLs live an hour; they are made again a little before. */
const SIGNED_SECONDS = 3600;
const RESIGN_MS = (SIGNED_SECONDS - 300) * 1000;
const RETRY_MS = 2500;

/** The channel's HLS preview in hls.js (a signed URL when the channel is secure), retried while it is live. */
export function PreviewPlayer({ channel }: { channel: ChannelView }) {
  const bridge = useBridge();
  const video = useRef<HTMLVideoElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<ControlErrorValue | null>(null);
  const [status, setStatus] = useState('Loading the preview…');
  const [attempt, setAttempt] = useState(0);
  const [signings, setSignings] = useState(0);
  const live = channel.state === 'started' || channel.state === 'starting';
  const { entryId, access, signedGeneration } = channel;
  const hlsUrl = channel.playback.hls;

  useEffect(() => {
    if (access === 'open') {
      setSrc(hlsUrl);
      return;
    }
    let on = true;
    setSrc(null);
    void bridge.invoke('channels.signedUrl', { entryId, expiresIn: SIGNED_SECONDS }).then((r) => {
      if (!on) return;
      if (r.ok) {
        setSrc(r.value.url);
        setError(null);
      } else setError(r.error);
    });
    const again = setTimeout(() => setSignings((n) => n + 1), RESIGN_MS);
    return () => {
      on = false;
      clearTimeout(again);
    };
    // A new signature generation (the channel's links were revoked): the preview signs again at once.
  }, [bridge, entryId, access, hlsUrl, signings, signedGeneration]);

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
