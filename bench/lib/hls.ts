/** Just enough HLS parsing for the bench: the master's first variant and a media playlist's segments. */

/** The URI of the first `#EXT-X-STREAM-INF` variant (the first video media playlist), resolved. */
export function firstVariantUrl(master: string, masterUrl: string): string | undefined {
  const lines = master.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
  if (i < 0) return undefined;
  const uri = lines.slice(i + 1).find((l) => l !== '' && !l.startsWith('#'));
  return uri === undefined ? undefined : new URL(uri, masterUrl).href;
}

export interface MediaSegment {
  /** Resolved URL. */
  url: string;
  /** EXT-X-PROGRAM-DATE-TIME in ms since the epoch, when given. */
  pdt?: number;
  /** EXTINF in seconds. */
  duration: number;
}

/** The segments of a media playlist, oldest first. */
export function parseMediaPlaylist(text: string, playlistUrl: string): MediaSegment[] {
  const out: MediaSegment[] = [];
  let pdt: number | undefined;
  let duration: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    } else if (line !== '' && !line.startsWith('#')) {
      if (duration === undefined) continue;
      out.push({ url: new URL(line, playlistUrl).href, duration, ...(pdt !== undefined ? { pdt } : {}) });
      pdt = undefined;
      duration = undefined;
    }
  }
  return out;
}
