import { useEffect, useRef, useState } from 'react';
import { PREVIEW_QUERY, type ChannelView } from '@contract';
import { usePlaybackUrl } from '../../api/use-playback-url.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

const RETRY_MS = 2500;
const LIVE = new Set<ChannelView['state']>(['starting', 'started']);

/** A URL of the preview's: marked so the origin does not count the dashboard as a viewer. */
export function previewUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${PREVIEW_QUERY}=1`;
}

/**
 * The channel's HLS preview in hls.js (a signed URL when the channel is secure), retried while it is live. When the
 * encoder stops, the preview keeps its last frame and says it will continue; when the channel is live again (its
 * state arrives with the channel's events) it loads again by itself.
 */
export function PreviewPlayer({ channel }: { channel: ChannelView }) {
  const video = useRef<HTMLVideoElement>(null);
  // Signed again at once when the channel's links are revoked (a new signature generation).
  const { url: src, error } = usePlaybackUrl(channel);
  const [status, setStatus] = useState('Loading the preview…');
  const [attempt, setAttempt] = useState(0);
  const live = LIVE.has(channel.state);
  const liveNow = useRef(live);
  liveNow.current = live;
  /** Moves on each time the channel goes live again: the preview loads afresh. */
  const [run, setRun] = useState(0);
  const [paused, setPaused] = useState(false);
  const wasLive = useRef(live);
  useEffect(() => {
    if (live && !wasLive.current) {
      setPaused(false);
      setRun((n) => n + 1);
    } else if (!live && wasLive.current) setPaused(true);
    wasLive.current = live;
  }, [live]);

  useEffect(() => {
    const el = video.current;
    if (!src || !el) return;
    let disposed = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let hls: { destroy(): void } | undefined;
    setStatus(liveNow.current ? 'Loading the preview…' : 'Loading the recording…');
    void import('hls.js').then(({ default: Hls }) => {
      if (disposed) return;
      if (!Hls.isSupported()) {
        if (el.canPlayType('application/vnd.apple.mpegurl')) {
          el.src = previewUrl(src);
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
        // Every request of the preview says it is the preview (main/origin/viewer-stats.ts).
        xhrSetup: (xhr, url) => xhr.open('GET', previewUrl(url), true),
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
        if (liveNow.current) {
          setStatus('Waiting for the stream…');
          retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
        } else if (!wasLive.current && run === 0)
          setStatus('Nothing to preview: the channel is not live and has no recording yet.');
      });
      player.loadSource(src);
      player.attachMedia(el);
    });
    return () => {
      disposed = true;
      clearTimeout(retry);
      hls?.destroy();
    };
    // A channel that stops keeps its player (the last frame stays); only going live again loads anew.
  }, [src, attempt, run]);

  return (
    <div className="preview">
      <div className="preview-stage">
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
        {paused ? (
          <p className="preview-paused" role="status" data-testid="preview-paused">
            Paused — it will continue here automatically
          </p>
        ) : null}
      </div>
      <p className="muted" role="status" data-testid="preview-status">
        {status}
      </p>
      <ErrorAlert error={error} action="Could not make a signed preview URL" />
    </div>
  );
}
