import { useEffect, useState } from 'react';
import type { ChannelView } from '@contract';
import { usePlaybackUrl } from '../api/use-playback-url.js';

/** While the channel is live the thumbnail is fetched again this often (the monitor writes one every 5 s). */
const REFRESH_MS = 10_000;
/** Until the first picture of a live channel is there, it is asked for this often. */
const FIRST_MS = 2000;

/** The origin's thumbnail URL of a channel: `…/<entry>.isml/thumbnail.jpg`, with a signed URL's query if any. */
export function thumbnailUrl(playbackHls: string): string {
  return playbackHls.replace(/\/\.m3u8(\?|$)/, '/thumbnail.jpg$1');
}

/**
 * A channel's live thumbnail from the origin listener (the content monitor writes it while the channel is live).
 * It is fetched (the dashboard's Content-Security-Policy lets it connect to the origin, not embed its images)
 * and shown from a blob; a secure channel's is fetched with a signed URL from `channels.signedUrl`, as the
 * preview is. Refreshed every 10 s while live; the last one stays after the channel stops.
 */
export function ChannelThumbnail({ channel, size }: { channel: ChannelView; size: 'small' | 'large' }) {
  const { name } = channel;
  const live = channel.state === 'started' || channel.state === 'starting';
  const master = usePlaybackUrl(channel).url;
  const url = master && thumbnailUrl(master);
  const [image, setImage] = useState<string | null>(null);
  const [at, setAt] = useState<string | null>(null);

  useEffect(() => {
    if (!url) return;
    let on = true;
    let shown: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      let got = false;
      try {
        const r = await fetch(url, { cache: 'no-store' });
        if (!on) return;
        if (r.status === 200) {
          const blob = await r.blob();
          if (!on) return;
          const next = URL.createObjectURL(blob);
          if (shown) URL.revokeObjectURL(shown);
          shown = next;
          got = true;
          setImage(next);
          setAt(r.headers.get('last-modified'));
        } else if (r.status === 404) setImage(null);
      } catch {
        // The origin is unreachable for a moment: the last picture stays.
      }
      // While live: again in 10 s, or in 2 s until the monitor wrote the first picture.
      if (on && live) timer = setTimeout(() => void load(), got || shown ? REFRESH_MS : FIRST_MS);
    };
    void load();
    return () => {
      on = false;
      clearTimeout(timer);
      if (shown) URL.revokeObjectURL(shown);
    };
  }, [url, live]);

  return (
    <div
      className={`thumbnail thumbnail-${size}`}
      data-testid="channel-thumbnail"
      data-loaded={image ? 'true' : 'false'}
    >
      {image ? (
        <img src={image} alt={`Live picture of ${name}`} title={at ? `Picture of ${at}` : undefined} />
      ) : (
        <span className="thumbnail-none">{live ? 'No picture yet' : 'No picture'}</span>
      )}
    </div>
  );
}
