/**
 * HLS (RFC 8216, version 7: fMP4 segments with EXT-X-MAP) master and media playlists, rendered
 * from a {@link PresentationView}. The master is served at `/<pp>/<pp>.isml/.m3u8`, media playlists
 * at `/<pp>/<pp>.isml/tracks/<trackName>.m3u8`; every URI written here is relative to those.
 */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';

/** The requested media playlist names no track of the presentation (an HTTP 404). */
export class TrackNotFoundError extends Error {
  readonly code = 'TRACK_NOT_FOUND';
  readonly statusCode = 404;
  constructor(readonly trackName: string) {
    super(`no track '${trackName}' in this presentation`);
    this.name = 'TrackNotFoundError';
  }
}

/** The urlSuffix, checked: it lands in quoted attributes and on URI lines. */
function urlSuffix(p: PresentationView): string {
  const suffix = p.urlSuffix ?? '';
  if (/["\r\n]/.test(suffix)) throw new TypeError('urlSuffix must not contain quotes or line breaks');
  return suffix;
}

const hasFragments = (t: TrackView): boolean => t.fragments.length > 0;

/**
 * The audio a video plays with: its `audioTrack`, else (or when the presentation has no such
 * track) the presentation's first audio track. `null`: the presentation has no audio track at all
 * (a video-only variant). `undefined`: the audio exists but has no fragments yet, so the variant is
 * not complete and is left out: a player that latched onto a variant without its audio would stay
 * silent, since the master is loaded only once.
 */
function audioFor(video: TrackView, tracks: readonly TrackView[]): TrackView | null | undefined {
  const isAudio = (t: TrackView): boolean => t.kind === 'audio';
  const audio = tracks.find((t) => isAudio(t) && t.trackName === video.audioTrack) ?? tracks.find(isAudio);
  if (!audio) return null;
  return hasFragments(audio) ? audio : undefined;
}

function quoted(value: string): string {
  return `"${value}"`;
}

export function renderMasterPlaylist(p: PresentationView): string {
  const suffix = urlSuffix(p);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const uri = (t: TrackView): string => `tracks/${t.trackName}.m3u8${suffix}`;
  const videos = p.tracks.filter((t) => t.kind === 'video' && hasFragments(t));

  if (videos.length === 0) {
    // Audio only: each audio track is a variant of its own.
    const audios = p.tracks.filter((t) => t.kind === 'audio' && hasFragments(t));
    lines.push('');
    for (const a of [...audios].sort((x, y) => y.bandwidth - x.bandwidth)) {
      lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(a.bandwidth)},CODECS=${quoted(a.codecs)}`, uri(a));
    }
    return lines.join('\n') + '\n';
  }

  const variants: { video: TrackView; audio: TrackView | null }[] = [];
  for (const video of videos) {
    const audio = audioFor(video, p.tracks);
    if (audio !== undefined) variants.push({ video, audio });
  }
  const total = (v: { video: TrackView; audio: TrackView | null }): number =>
    v.video.bandwidth + (v.audio?.bandwidth ?? 0);
  variants.sort((x, y) => total(y) - total(x));

  // One rendition group per audio track, named after it, in the order the presentation lists them.
  const groups = p.tracks.filter((t) => variants.some((v) => v.audio === t));
  if (groups.length > 0) lines.push('');
  for (const a of groups) {
    const attrs = [
      'TYPE=AUDIO',
      `GROUP-ID=${quoted(a.trackName)}`,
      `NAME=${quoted(a.trackName)}`,
      'DEFAULT=YES',
      'AUTOSELECT=YES',
      ...(a.channels ? [`CHANNELS=${quoted(String(a.channels))}`] : []),
      `URI=${quoted(uri(a))}`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  }

  lines.push('');
  for (const v of variants) {
    const { video, audio } = v;
    const attrs = [
      `BANDWIDTH=${Math.round(total(v))}`,
      ...(video.width && video.height ? [`RESOLUTION=${video.width}x${video.height}`] : []),
      `CODECS=${quoted(audio ? `${video.codecs},${audio.codecs}` : video.codecs)}`,
      ...(video.frameRate ? [`FRAME-RATE=${video.frameRate.toFixed(3)}`] : []),
      ...(audio ? [`AUDIO=${quoted(audio.trackName)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, uri(video));
  }
  return lines.join('\n') + '\n';
}

/** Seconds with millisecond precision, as written in EXTINF. */
function seconds(f: FragmentView, timescale: number): number {
  return Math.round((f.duration / timescale) * 1000) / 1000;
}

export function renderMediaPlaylist(p: PresentationView, trackName: string): string {
  const track = p.tracks.find((t) => t.trackName === trackName);
  if (!track) throw new TrackNotFoundError(trackName);
  const suffix = urlSuffix(p);
  const { fragments, timescale } = track;

  const longest = fragments.reduce((max, f) => Math.max(max, seconds(f, timescale)), 0);
  const targetDuration = Math.max(1, Math.round(p.fragmentDuration), Math.ceil(longest));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${fragments[0]?.sequence ?? 0}`,
  ];
  if (track.discontinuitySequence !== undefined) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${track.discontinuitySequence}`);
  }
  if (p.live && !p.vod && p.holdBack !== undefined) {
    lines.push(`#EXT-X-SERVER-CONTROL:HOLD-BACK=${Math.max(p.holdBack, 3 * targetDuration).toFixed(3)}`);
  }
  if (p.vod) lines.push('#EXT-X-PLAYLIST-TYPE:VOD');
  lines.push(`#EXT-X-MAP:URI=${quoted(`${trackName}/init.mp4${suffix}`)}`);
  for (const f of fragments) {
    if (f.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(f.utc).toISOString()}`,
      `#EXTINF:${seconds(f, timescale).toFixed(3)},`,
      `${trackName}/${p.segmentPrefix ?? ''}${f.mediaTime}.m4s${suffix}`,
    );
  }
  if (!p.live || p.vod) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
