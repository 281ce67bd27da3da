/**
 * What the client manifests (HLS master + media playlists, DASH MPD) are rendered from: a view of
 * the segment index for one request, already cut to the DVR window, time shift or subclip.
 *
 * URLs in the manifests are relative to the manifest's base `/<pp>/<pp>.isml/`:
 * - HLS master `.m3u8` → media playlist `tracks/<trackName>.m3u8`
 * - media playlist → `<trackName>/init.mp4` (or each run's `init-<run start>.mp4`), `<trackName>/<mediaTime>.m4s`; with low latency, parts (one
 *   fragment each) `<trackName>/n<fragment sequence>.m4s`
 * - MPD `.mpd` → `tracks/<trackName>/init.mp4`, `tracks/<trackName>/<mediaTime>.m4s`, or
 *   `tracks/<trackName>/n<sequence>.m4s` with segmentTemplate 'number_timeline'.
 */

export interface TrackView {
  /** [a-z0-9_]+, e.g. video_source, video_360, audio_source. */
  trackName: string;
  kind: 'video' | 'audio';
  timescale: number;
  /** RFC 6381. */
  codecs: string;
  /** Bits per second (peak). */
  bandwidth: number;
  width?: number;
  height?: number;
  frameRate?: number;
  sampleRate?: number;
  channels?: number;
  /** Video only: trackName of the audio that plays with it (default, or when absent: the first audio track). */
  audioTrack?: string;
  /**
   * HLS EXT-X-DISCONTINUITY-SEQUENCE: how many discontinuities of this track precede
   * `fragments[0]` (slid out of the window). Omitted from the playlist when undefined.
   */
  discontinuitySequence?: number;
  /** In order, already limited to what the manifest must list (DVR window / subclip). */
  fragments: FragmentView[];
  /** Low-latency HLS: the parts of the segment in progress (after the last of `fragments`), oldest first. */
  partial?: FragmentView[];
}

export interface FragmentView {
  /** Per-track fragment number, +1 per fragment ever written (stable across requests: HLS media sequence). */
  sequence: number;
  /** Presentation time in timescale units (== the fragment's tfdt). */
  mediaTime: number;
  /** Timescale units. */
  duration: number;
  /** Ms since epoch of the fragment start (EXT-X-PROGRAM-DATE-TIME). */
  utc: number;
  /** A gap (or a new ingest session) precedes this fragment. */
  discontinuity?: boolean;
  /** false: it does not start with a key frame (a low-latency part inside a GOP); otherwise it does. */
  independent?: boolean;
  /** Bytes, when known. */
  size?: number;
  /**
   * The init segment of the fragment's run, in its track's directory (`init-<run start>.mp4`); undefined:
   * `init.mp4` (fragments written before each run had its own). A change starts a new HLS EXT-X-MAP / DASH Period.
   */
  init?: string;
  /** Media time of the first fragment of this fragment's run (the run's init is named after it); see `init`. */
  runStart?: number;
  /** Low-latency HLS: the fragments a segment (a group) is made of, each one part. */
  parts?: FragmentView[];
}

export interface PresentationView {
  /** false: the encoder stopped (HLS gets EXT-X-ENDLIST, MPD becomes static). */
  live: boolean;
  /** A fixed subclip: HLS `#EXT-X-PLAYLIST-TYPE:VOD` + ENDLIST, MPD static. */
  vod?: boolean;
  /** Ms since epoch; mediaTime 0 (any timescale) == this instant. */
  availabilityStartTime: number;
  /** Ms since epoch (publishTime, UTCTiming). */
  now: number;
  /** Seconds (timeShiftBufferDepth). */
  dvrWindow: number;
  /** Seconds, nominal (minimumUpdatePeriod, target duration floor). */
  fragmentDuration: number;
  /** Seconds; default 2 × fragmentDuration. */
  minBufferTime?: number;
  /** Seconds; default 3 × fragmentDuration (live MPD only). */
  suggestedPresentationDelay?: number;
  /** Default 'time'. */
  segmentTemplate?: 'time' | 'number_timeline';
  /** Prefix of segment file names ('g6000-' when fragments are combined to a minimum length); default ''. */
  segmentPrefix?: string;
  /** Seconds a player should stay behind the live edge (HLS EXT-X-SERVER-CONTROL:HOLD-BACK), live only. */
  holdBack?: number;
  /** Appended verbatim to every child URL in both HLS and DASH (e.g. '?sig=abc'); default ''. */
  urlSuffix?: string;
  /**
   * Low-latency HLS (live only): media playlists list the parts of their newest segments and of the segment in
   * progress, a preload hint for the next part, and rendition reports; the server blocks reloads.
   */
  lowLatency?: {
    /** Seconds: the part duration asked of the transcoder (EXT-X-PART-INF PART-TARGET, at least). */
    partTarget: number;
  };
  tracks: TrackView[];
}
