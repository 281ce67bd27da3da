/**
 * HLS (RFC 8216, version 7: fMP4 segments with EXT-X-MAP) master and media playlists, rendered
 * from a {@link PresentationView}; live media playlists of a low-latency view are version 9 (RFC 8216bis:
 * parts, preload hints, rendition reports, delta updates). The master is served at `/<pp>/<pp>.isml/.m3u8`, media playlists
 * at `/<pp>/<pp>.isml/tracks/<trackName>.m3u8`; every URI written here is relative to those.
 */
import { playlistEdge } from './ll-hls.js';
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

/** EXT-X-TARGETDURATION of a track: its longest segment, rounded up, at least the nominal fragment duration. */
export function targetDurationOf(p: PresentationView, track: TrackView): number {
  const longest = track.fragments.reduce((max, f) => Math.max(max, seconds(f, track.timescale)), 0);
  return Math.max(1, Math.round(p.fragmentDuration), Math.ceil(longest));
}

/**
 * EXT-X-PART-INF PART-TARGET of a low-latency track: the part duration asked of the transcoder, or the longest
 * part listed when one is longer (AAC parts end on whole frames), in milliseconds rounded up.
 */
export function partTargetOf(p: PresentationView, track: TrackView): number {
  let longest = p.lowLatency?.partTarget ?? 0;
  for (const part of [...track.fragments.flatMap((f) => f.parts ?? []), ...(track.partial ?? [])])
    longest = Math.max(longest, part.duration / track.timescale);
  return Math.ceil(longest * 1000 - 1e-6) / 1000;
}

export interface MediaPlaylistOptions {
  /** `_HLS_skip`: a delta update (low latency only): the segments before the skip boundary become EXT-X-SKIP. */
  skip?: boolean;
}

export function renderMediaPlaylist(
  p: PresentationView,
  trackName: string,
  opts: MediaPlaylistOptions = {},
): string {
  const track = p.tracks.find((t) => t.trackName === trackName);
  if (!track) throw new TrackNotFoundError(trackName);
  const suffix = urlSuffix(p);
  const { fragments, timescale } = track;
  const live = p.live && !p.vod;
  const ll = live ? p.lowLatency : undefined;

  const targetDuration = targetDurationOf(p, track);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${ll ? 9 : 7}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${fragments[0]?.sequence ?? 0}`,
  ];
  if (track.discontinuitySequence !== undefined) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${track.discontinuitySequence}`);
  }
  const holdBack =
    live && p.holdBack !== undefined ? Math.max(p.holdBack, 3 * targetDuration).toFixed(3) : undefined;
  const partTarget = ll ? partTargetOf(p, track) : 0;
  const skipUntil = 6 * targetDuration;
  if (ll) {
    const control = [
      'CAN-BLOCK-RELOAD=YES',
      `CAN-SKIP-UNTIL=${skipUntil.toFixed(3)}`,
      ...(holdBack !== undefined ? [`HOLD-BACK=${holdBack}`] : []),
      `PART-HOLD-BACK=${(3 * partTarget).toFixed(3)}`,
    ];
    lines.push(
      `#EXT-X-SERVER-CONTROL:${control.join(',')}`,
      `#EXT-X-PART-INF:PART-TARGET=${partTarget.toFixed(3)}`,
    );
  } else if (holdBack !== undefined) {
    lines.push(`#EXT-X-SERVER-CONTROL:HOLD-BACK=${holdBack}`);
  }
  if (p.vod) lines.push('#EXT-X-PLAYLIST-TYPE:VOD');

  const partial = ll ? (track.partial ?? []) : [];
  const endOf = (f: FragmentView): number => (f.mediaTime + f.duration) / timescale;
  const tail = partial[partial.length - 1] ?? fragments[fragments.length - 1];
  const end = tail ? endOf(tail) : 0;
  // Delta update: the segments that end at least the skip boundary before the end of the playlist.
  const skipped = ll && opts.skip ? fragments.filter((f) => endOf(f) <= end - skipUntil).length : 0;
  // Each run has its own init segment: an EXT-X-MAP first, and again wherever the run changes (after its
  // EXT-X-DISCONTINUITY), so an init a later run writes never replaces the one earlier segments need.
  const mapOf = (f: FragmentView | undefined): string => `${trackName}/${f?.init ?? 'init.mp4'}${suffix}`;
  let map = mapOf(fragments[skipped] ?? partial[0]);
  lines.push(`#EXT-X-MAP:URI=${quoted(map)}`);
  const mapChange = (f: FragmentView): void => {
    if (mapOf(f) === map) return;
    map = mapOf(f);
    lines.push(`#EXT-X-MAP:URI=${quoted(map)}`);
  };
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  const part = (f: FragmentView): string =>
    `#EXT-X-PART:DURATION=${(f.duration / timescale).toFixed(5)},URI=${quoted(`${trackName}/n${f.sequence}.m4s${suffix}`)}` +
    (f.independent === false ? '' : ',INDEPENDENT=YES');

  for (const f of fragments.slice(skipped)) {
    if (f.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    mapChange(f);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(f.utc).toISOString()}`);
    // Parts of the segments in the last three target durations.
    if (ll && endOf(f) > end - 3 * targetDuration) for (const x of f.parts ?? []) lines.push(part(x));
    lines.push(
      `#EXTINF:${seconds(f, timescale).toFixed(3)},`,
      `${trackName}/${p.segmentPrefix ?? ''}${f.mediaTime}.m4s${suffix}`,
    );
  }
  if (ll) {
    const head = partial[0];
    if (head) {
      if (head.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      mapChange(head);
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(head.utc).toISOString()}`, ...partial.map(part));
    }
    const lastPart = head ? partial[partial.length - 1] : fragments[fragments.length - 1]?.parts?.at(-1);
    if (lastPart) {
      const next = `${trackName}/n${lastPart.sequence + 1}.m4s${suffix}`;
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(next)}`);
    }
    // Where the other renditions of the same kind are, so a player switching to one can block on its next part.
    for (const other of p.tracks) {
      if (other === track || other.kind !== track.kind) continue;
      const edge = playlistEdge(other);
      if (!edge) continue;
      lines.push(
        `#EXT-X-RENDITION-REPORT:URI=${quoted(`${other.trackName}.m3u8${suffix}`)},LAST-MSN=${edge.msn},LAST-PART=${edge.part}`,
      );
    }
  }
  if (!p.live || p.vod) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
