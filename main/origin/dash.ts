/**
 * DASH MPD (ISO/IEC 23009-1, isoff-live profile) rendered from a {@link PresentationView}: one
 * Period per transcoder run (each run has its own init segments; see {@link periodsOf}), SegmentTemplate +
 * SegmentTimeline per Representation. Served at `/<pp>/<pp>.isml/.mpd`;
 * every URL written here is relative to that.
 *
 * Timeline: while live the MPD is dynamic and media time 0 is `availabilityStartTime` (Period start
 * PT0S, no presentationTimeOffset), so `$Time$` is the fragment's tfdt. Once static (encoder
 * stopped, or a vod subclip) a presentationTimeOffset moves the earliest fragment of the
 * presentation to Period time 0; all tracks get the same offset in seconds, so they stay in sync.
 */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';

const PROFILE_LIVE = 'urn:mpeg:dash:profile:isoff-live:2011';
const UTC_DIRECT = 'urn:mpeg:dash:utc:direct:2014';
const ROLE_SCHEME = 'urn:mpeg:dash:role:2011';
const CHANNEL_CONFIGURATION_SCHEME = 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011';

type Attrs = Record<string, string | number | undefined>;

function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** Indented XML, one element per line; attributes whose value is undefined are left out. */
class XmlWriter {
  private readonly lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private depth = 0;

  private tag(name: string, attrs: Attrs, close: string): void {
    const list = Object.entries(attrs)
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
      .join('');
    this.lines.push(`${'  '.repeat(this.depth)}<${name}${list}${close}>`);
  }
  open(name: string, attrs: Attrs = {}): void {
    this.tag(name, attrs, '');
    this.depth++;
  }
  close(name: string): void {
    this.depth--;
    this.lines.push(`${'  '.repeat(this.depth)}</${name}>`);
  }
  leaf(name: string, attrs: Attrs = {}): void {
    this.tag(name, attrs, '/');
  }
  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** xs:duration in seconds, millisecond precision: PT30S, PT2.5S, PT0.021S. */
export function isoDuration(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  return `PT${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(3).replace(/0+$/, '')}S`;
}

/** FrameRateType is an integer or a fraction: 30, 30000/1001, 25/2. */
function frameRateAttr(fps: number): string {
  const ntsc = fps * 1.001;
  const [num, den] =
    Math.abs(ntsc - Math.round(ntsc)) < 0.001 && !Number.isInteger(fps)
      ? [Math.round(ntsc) * 1000, 1001]
      : [Math.round(fps * 1000), 1000];
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(num, den);
  return den / g === 1 ? String(num / g) : `${num / g}/${den / g}`;
}

interface S {
  t?: number;
  d: number;
  r: number;
}

/**
 * Run-length SegmentTimeline: consecutive fragments of equal duration with no gap between them
 * collapse into one S with a repeat count; the first S, and any after a gap (or a fragment flagged
 * as a discontinuity), carry an explicit t.
 */
function segmentTimeline(fragments: readonly FragmentView[]): S[] {
  const entries: S[] = [];
  let current: S | undefined;
  let next: number | undefined;
  for (const f of fragments) {
    const contiguous = next === f.mediaTime && !f.discontinuity;
    if (current && contiguous && current.d === f.duration) {
      current.r++;
    } else {
      current = contiguous ? { d: f.duration, r: 0 } : { t: f.mediaTime, d: f.duration, r: 0 };
      entries.push(current);
    }
    next = f.mediaTime + f.duration;
  }
  return entries;
}

/** `$` starts a template identifier: a literal one in the URL suffix is written `$$`. */
function templateSuffix(suffix: string): string {
  return suffix.replace(/\$/g, '$$$$');
}

const first = (t: TrackView): FragmentView => t.fragments[0] as FragmentView;
const last = (t: TrackView): FragmentView => t.fragments[t.fragments.length - 1] as FragmentView;
const endSeconds = (t: TrackView): number => (last(t).mediaTime + last(t).duration) / t.timescale;

export function renderMpd(p: PresentationView): string {
  const dynamic = p.live && !p.vod;
  const tracks = p.tracks.filter((t) => t.fragments.length > 0);

  // Static: the earliest fragment of any track is Period time 0.
  const start = dynamic ? 0 : Math.min(...tracks.map((t) => first(t).mediaTime / t.timescale));
  const end = Math.max(0, ...tracks.map(endSeconds));
  const longest = tracks.reduce(
    (max, t) => t.fragments.reduce((m, f) => Math.max(m, f.duration / t.timescale), max),
    0,
  );

  const xml = new XmlWriter();
  xml.open('MPD', {
    xmlns: 'urn:mpeg:dash:schema:mpd:2011',
    profiles: PROFILE_LIVE,
    type: dynamic ? 'dynamic' : 'static',
    availabilityStartTime: dynamic ? new Date(p.availabilityStartTime).toISOString() : undefined,
    publishTime: new Date(p.now).toISOString(),
    mediaPresentationDuration: dynamic ? undefined : isoDuration(tracks.length > 0 ? end - start : 0),
    minimumUpdatePeriod: dynamic ? isoDuration(p.fragmentDuration) : undefined,
    timeShiftBufferDepth: dynamic ? isoDuration(p.dvrWindow) : undefined,
    suggestedPresentationDelay: dynamic
      ? isoDuration(p.suggestedPresentationDelay ?? 3 * p.fragmentDuration)
      : undefined,
    maxSegmentDuration: longest > 0 ? isoDuration(longest) : undefined,
    minBufferTime: isoDuration(p.minBufferTime ?? 2 * p.fragmentDuration),
  });
  for (const period of periodsOf(tracks, p.fragmentDuration)) {
    // Dynamic: the Period starts where its run does, on the availabilityStartTime timeline, and a
    // presentationTimeOffset keeps `$Time$` the fragment's tfdt. Static: the earliest fragment is time 0.
    const at = period.start ?? (dynamic ? 0 : start);
    xml.open('Period', {
      id: period.id,
      start: isoDuration(dynamic ? at : Math.max(0, at - start)),
    });
    renderPeriod(xml, p, period.tracks, (t) =>
      dynamic
        ? period.start === undefined
          ? undefined
          : Math.round(period.start * t.timescale)
        : Math.min(Math.round(Math.max(at, start) * t.timescale), first(t).mediaTime),
    );
    xml.close('Period');
  }
  // The appliance runs without internet: players take the time from the MPD, not a time server.
  xml.leaf('UTCTiming', { schemeIdUri: UTC_DIRECT, value: new Date(p.now).toISOString() });
  xml.close('MPD');
  return xml.toString();
}

/** The AdaptationSets of one Period: `tracks` hold only the Period's fragments. */
function renderPeriod(
  xml: XmlWriter,
  p: PresentationView,
  tracks: readonly TrackView[],
  offsetOf: (t: TrackView) => number | undefined,
): void {
  const suffix = templateSuffix(p.urlSuffix ?? '');
  const numbered = p.segmentTemplate === 'number_timeline';
  const videos = tracks.filter((t) => t.kind === 'video');
  const audios = tracks.filter((t) => t.kind === 'audio');
  const segmentTemplate = (t: TrackView): void => {
    xml.open('SegmentTemplate', {
      timescale: t.timescale,
      presentationTimeOffset: offsetOf(t),
      startNumber: numbered ? first(t).sequence : undefined,
      initialization: `tracks/$RepresentationID$/${first(t).init ?? 'init.mp4'}${suffix}`,
      media: numbered
        ? `tracks/$RepresentationID$/${p.segmentPrefix ?? ''}n$Number$.m4s${suffix}`
        : `tracks/$RepresentationID$/${p.segmentPrefix ?? ''}$Time$.m4s${suffix}`,
    });
    xml.open('SegmentTimeline');
    for (const s of segmentTimeline(t.fragments)) xml.leaf('S', { t: s.t, d: s.d, r: s.r || undefined });
    xml.close('SegmentTimeline');
    xml.close('SegmentTemplate');
  };

  let adaptationSetId = 0;
  if (videos.length > 0) {
    // The ladder: renditions of one source, cut at the same keyframes, so switchable.
    const maxOf = (pick: (t: TrackView) => number | undefined): number | undefined => {
      const values = videos.map(pick).filter((v): v is number => v !== undefined);
      return values.length > 0 ? Math.max(...values) : undefined;
    };
    const maxFrameRate = maxOf((t) => t.frameRate);
    xml.open('AdaptationSet', {
      id: adaptationSetId++,
      contentType: 'video',
      mimeType: 'video/mp4',
      segmentAlignment: 'true',
      startWithSAP: 1,
      maxWidth: maxOf((t) => t.width),
      maxHeight: maxOf((t) => t.height),
      maxFrameRate: maxFrameRate !== undefined ? frameRateAttr(maxFrameRate) : undefined,
    });
    for (const t of [...videos].sort((a, b) => b.bandwidth - a.bandwidth)) {
      xml.open('Representation', {
        id: t.trackName,
        bandwidth: Math.round(t.bandwidth),
        codecs: t.codecs,
        width: t.width,
        height: t.height,
        frameRate: t.frameRate !== undefined ? frameRateAttr(t.frameRate) : undefined,
      });
      segmentTemplate(t);
      xml.close('Representation');
    }
    xml.close('AdaptationSet');
  }

  // One AdaptationSet per audio track: the appliance's audio tracks are distinct choices (the
  // source's audio, a re-encode, another language), not bitrate steps of one encode, and the
  // Representations of one AdaptationSet must be seamlessly switchable. The audio that goes with
  // the top video (as in the HLS master) is Role "main", so players pick it first.
  const topVideo = [...videos].sort((a, b) => b.bandwidth - a.bandwidth)[0];
  const paired = audios.find((t) => t.trackName === topVideo?.audioTrack);
  const mainAudio = (paired ?? audios[0])?.trackName;
  for (const t of audios) {
    xml.open('AdaptationSet', {
      id: adaptationSetId++,
      contentType: 'audio',
      mimeType: 'audio/mp4',
      segmentAlignment: 'true',
      startWithSAP: 1,
    });
    xml.leaf('Role', { schemeIdUri: ROLE_SCHEME, value: t.trackName === mainAudio ? 'main' : 'alternate' });
    xml.open('Representation', {
      id: t.trackName,
      bandwidth: Math.round(t.bandwidth),
      codecs: t.codecs,
      audioSamplingRate: t.sampleRate,
    });
    if (t.channels)
      xml.leaf('AudioChannelConfiguration', { schemeIdUri: CHANNEL_CONFIGURATION_SCHEME, value: t.channels });
    segmentTemplate(t);
    xml.close('Representation');
    xml.close('AdaptationSet');
  }
}

interface PeriodPlan {
  /** `0` for fragments written before each run had its own init segment; else `p<run start in ms>`. */
  id: string;
  /** Seconds on the presentation timeline where the Period's run starts; undefined for the old form. */
  start?: number;
  tracks: TrackView[];
}

/**
 * One Period per transcoder run (each has its own init segments): the runs of the tracks, by their start, are
 * grouped so that runs starting within one fragment duration of each other (the tracks of one ffmpeg process)
 * share a Period, and a track's second run always opens the next. Fragments without a run (written before runs
 * had their own init segments) form the first Period, id `0`, as the MPD always had.
 */
export function periodsOf(tracks: readonly TrackView[], fragmentDuration: number): PeriodPlan[] {
  const runStart = (t: TrackView, f: FragmentView): number | undefined =>
    f.runStart === undefined ? undefined : f.runStart / t.timescale;
  const starts: Array<{ at: number; track: string }> = [];
  for (const t of tracks) {
    const seen = new Set<number>();
    for (const f of t.fragments) {
      const at = runStart(t, f);
      if (at === undefined || seen.has(at)) continue;
      seen.add(at);
      starts.push({ at, track: t.trackName });
    }
  }
  starts.sort((a, b) => a.at - b.at);
  /** Run start (per track) -> the Period it opens or joins. */
  const clusters: Array<{ start: number; members: Set<string> }> = [];
  const clusterOf = new Map<string, number>();
  for (const s of starts) {
    const c = clusters[clusters.length - 1];
    if (c && s.at - c.start < fragmentDuration && !c.members.has(s.track)) c.members.add(s.track);
    else clusters.push({ start: s.at, members: new Set([s.track]) });
    clusterOf.set(`${s.track} ${s.at}`, clusters.length - 1);
  }
  const plans: PeriodPlan[] = [];
  const legacy: TrackView[] = [];
  const byCluster: TrackView[][] = clusters.map(() => []);
  for (const t of tracks) {
    const parts = new Map<number, FragmentView[]>();
    for (const f of t.fragments) {
      const at = runStart(t, f);
      const k = at === undefined ? -1 : (clusterOf.get(`${t.trackName} ${at}`) ?? -1);
      let list = parts.get(k);
      if (!list) parts.set(k, (list = []));
      list.push(f);
    }
    for (const [k, fragments] of parts)
      (k === -1 ? legacy : (byCluster[k] as TrackView[])).push({ ...t, fragments });
  }
  if (legacy.length > 0 || clusters.length === 0) plans.push({ id: '0', tracks: legacy });
  clusters.forEach((c, k) =>
    plans.push({ id: `p${Math.round(c.start * 1000)}`, start: c.start, tracks: byCluster[k] as TrackView[] }),
  );
  return plans.filter((plan) => plan.tracks.length > 0 || plans.length === 1);
}
