import { useEffect, useState } from 'react';
import type { ChannelView, ControlErrorValue } from '@contract';
import { useBridge } from './hooks.js';

/** Signed URLs the dashboard makes for itself (preview, thumbnails) live an hour; they are made again before. */
const SIGNED_SECONDS = 3600;
const RESIGN_MS = (SIGNED_SECONDS - 300) * 1000;

/**
 * The channel's HLS master URL as the dashboard may fetch it: the open URL, or for a secure channel a signed one
 * from `channels.signedUrl`, made again before it expires and at once when the channel's signed links are revoked
 * (its signature generation moves on). Null while it is being signed; the failure, if signing failed.
 */
export function usePlaybackUrl(channel: ChannelView): {
  url: string | null;
  error: ControlErrorValue | null;
} {
  const bridge = useBridge();
  const { entryId, access, signedGeneration } = channel;
  const hls = channel.playback.hls;
  const [url, setUrl] = useState<string | null>(access === 'open' ? hls : null);
  const [error, setError] = useState<ControlErrorValue | null>(null);
  const [signings, setSignings] = useState(0);
  useEffect(() => {
    if (access === 'open') {
      setUrl(hls);
      return;
    }
    let on = true;
    setUrl(null);
    void bridge.invoke('channels.signedUrl', { entryId, expiresIn: SIGNED_SECONDS }).then((r) => {
      if (!on) return;
      if (r.ok) {
        setUrl(r.value.url);
        setError(null);
      } else setError(r.error);
    });
    const again = setTimeout(() => setSignings((n) => n + 1), RESIGN_MS);
    return () => {
      on = false;
      clearTimeout(again);
    };
  }, [bridge, entryId, access, hls, signedGeneration, signings]);
  return { url, error };
}
