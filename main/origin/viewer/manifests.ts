/** Manifests: the HLS master and media playlists (with low-latency blocking reloads) and the DASH MPD. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderMpd } from '../dash.js';
import { groupLength, groupView } from '../fragment-groups.js';
import type { FragmentWaiters } from '../fragment-waiters.js';
import { partTargetOf, renderMasterPlaylist, renderMediaPlaylist, targetDurationOf } from '../hls.js';
import { holds, parseDeliveryDirectives, tooFarAhead } from '../ll-hls.js';
import type { PresentationView, TrackView } from '../manifest-model.js';
import { parsePlayout, playoutPresentation, type PlayoutQuery } from '../playout.js';
import { resolvePpOptions } from '../publishing-point-options.js';
import type { PublishingPointRecord, SegmentIndex } from '../segment-index.js';
import type { BlockedRequests } from './blocked-requests.js';
import { badRequest, notFound, unavailable } from './replies.js';
import type { GrantedRequest, ViewerCaches, ViewerResource } from './viewer-deps.js';

export interface ManifestDeps {
  index: SegmentIndex;
  /** Viewer access of a publishing point: part of a rendered manifest's cache key. */
  accessFor: (pp: string) => 'open' | 'secure';
  caches: Pick<ViewerCaches, 'manifest' | 'keepManifest'>;
  /** Low-latency HLS: woken by the fragment writer when a fragment of the track is indexed. */
  waiters: Pick<FragmentWaiters, 'wait'>;
  blocking: BlockedRequests;
}

/** `.m3u8` (master), `.mpd` and `tracks/<track>.m3u8` with their playout query; undefined for any other path. */
export function manifestResources(o: ManifestDeps): ViewerResource {
  return (req, reply, at) => {
    const isMaster = /^[^/]*\.m3u8$/.test(at.rest);
    const isMpd = /^[^/]*\.mpd$/.test(at.rest);
    const media = /^tracks\/([A-Za-z0-9_-]+)\.m3u8$/.exec(at.rest);
    if (!(isMaster || isMpd || media)) return undefined;
    return serveManifest(o, req, reply, at, { isMaster, isMpd, media });
  };
}

/** Which manifest a path names: the master playlist, the MPD, or a track's media playlist (`media[1]`). */
interface Wanted {
  isMaster: boolean;
  isMpd: boolean;
  media: RegExpExecArray | null;
}

async function serveManifest(
  o: ManifestDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  { pp, opts, urlSuffix }: GrantedRequest,
  { isMaster, isMpd, media }: Wanted,
): Promise<FastifyReply> {
  const name = pp.name;
  const query = req.query as Record<string, string | string[] | undefined>;
  // Playout control: ?dvr_window_length, ?time_shift, ?vbegin&vend (a PlayoutError answers 400).
  const playout = parsePlayout(req.query as PlayoutQuery);
  // Low-latency HLS: the live edge of a low-latency publishing point's media playlists, where the
  // delivery directives (_HLS_msn, _HLS_part, _HLS_skip) apply; everywhere else they are ignored.
  const lowLatency =
    media !== null && opts.hlsLowLatency && playout.kind === 'live' && !((playout.timeShift ?? 0) > 0);
  const directives = lowLatency ? parseDeliveryDirectives(query) : { skip: false };
  const present = (record: PublishingPointRecord): PresentationView | undefined => {
    const view = playoutPresentation(o.index, record, playout, { urlSuffix });
    if (!view || view.tracks.length === 0 || !view.complete) return undefined;
    // Fragments combined to the format's segment length (minimum length; fragment_duration with low latency).
    const length = groupLength(record.options, isMpd ? 'mpd' : 'hls');
    const partsMode = resolvePpOptions(record.options).hlsLowLatency;
    const shown =
      length > 0 ? groupView(o.index, record.name, view, length, { lowLatency: partsMode }) : view;
    // Low latency: a track's first segment is complete only once the next one starts; until every track has
    // one, the presentation is still starting (players load the master once).
    if (partsMode && shown.tracks.length < view.tracks.length) return undefined;
    if (lowLatency && partsMode && shown.live && !shown.vod) {
      shown.lowLatency = { partTarget: opts.hlsPartDuration };
    }
    return shown;
  };
  // Everything but a blocking reload is the same for every viewer of this URL until the index changes.
  const writes = o.index.writes;
  const cacheKey = directives.msn === undefined ? `${o.accessFor(pp.name)} ${req.raw.url ?? ''}` : undefined;
  const hit = cacheKey === undefined ? undefined : o.caches.manifest(cacheKey, writes);
  if (hit) return reply.type(hit.type).header('Cache-Control', hit.cacheControl).send(hit.body);
  let shown = present(pp);
  if (!shown) {
    return notFound(reply, playout.kind === 'vod' ? 'nothing in that range' : 'nothing published yet');
  }
  // A subclip that ended before the newest fragment never changes; everything else is live or may grow.
  const fixed =
    playout.kind === 'vod' && Number.isFinite(playout.to) && playout.to <= newestUtc(o.index, pp.name);
  const cache = fixed
    ? 'public, max-age=3600'
    : pp.state === 'stopped'
      ? 'public, max-age=10'
      : `public, max-age=${Math.max(1, Math.floor(opts.fragmentDuration / 2))}`;
  reply.header('Cache-Control', cache);
  const answer = (type: string, body: string): FastifyReply => {
    if (cacheKey !== undefined) o.caches.keepManifest(cacheKey, writes, { type, cacheControl: cache, body });
    return reply.type(type).send(body);
  };
  if (isMpd) return answer('application/dash+xml', renderMpd(shown));
  if (isMaster) return answer('application/vnd.apple.mpegurl', renderMasterPlaylist(shown));
  const trackName = (media as RegExpExecArray)[1] as string;
  const trackIn = (v: PresentationView): TrackView | undefined =>
    v.tracks.find((t) => t.trackName === trackName);
  let track = trackIn(shown);
  if (!track) return notFound(reply, 'no such track');
  if (directives.msn !== undefined) {
    // Blocking playlist reload: answer once the playlist holds the segment (or part) asked for, the track
    // ends, or three target durations pass (503).
    const deadline = Date.now() + 3 * targetDurationOf(shown, track) * 1000;
    if (o.blocking.full && shown.lowLatency && !holds(track, directives.msn, directives.part))
      return unavailable(reply, 'too many blocking reloads are waiting; retry');
    const wait = o.blocking.begin(reply);
    try {
      while (shown.lowLatency && !holds(track, directives.msn, directives.part)) {
        const far = tooFarAhead(track, directives, partTargetOf(shown, track));
        if (far) return badRequest(reply.header('Cache-Control', 'no-store'), far);
        if (o.index.getTrack(name, trackName)?.state === 'stopped') break;
        const woke = await o.waiters.wait(name, trackName, deadline - Date.now(), wait.signal);
        if (woke === 'timeout' || woke === 'aborted') {
          return unavailable(reply, `_HLS_msn=${directives.msn} did not arrive in time`);
        }
        const next = sharedRender(o, `${name} ${urlSuffix} ${isMpd}`, () => {
          const again = o.index.getPublishingPoint(name);
          return again && present(again);
        });
        track = next && trackIn(next);
        if (!next || !track) return notFound(reply, 'no such track');
        shown = next;
      }
    } finally {
      wait.end();
    }
  }
  return answer(
    'application/vnd.apple.mpegurl',
    renderMediaPlaylist(shown, trackName, { skip: directives.skip }),
  );
}

/**
 * Held blocking reloads wake together when a part is indexed: the first to wake renders the presentation for
 * that index state, the others reuse it (one render per change, not one per held request).
 */
const renders = new WeakMap<
  ManifestDeps,
  { writes: number; views: Map<string, PresentationView | undefined> }
>();

function sharedRender(
  o: ManifestDeps,
  key: string,
  render: () => PresentationView | undefined,
): PresentationView | undefined {
  let r = renders.get(o);
  if (!r || r.writes !== o.index.writes) renders.set(o, (r = { writes: o.index.writes, views: new Map() }));
  if (!r.views.has(key)) r.views.set(key, render());
  return r.views.get(key);
}

/** Start (ms since epoch) of the newest fragment of any track. */
function newestUtc(index: SegmentIndex, pp: string): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const t of index.tracks(pp))
    newest = Math.max(newest, index.lastFragment(t.id)?.utc ?? Number.NEGATIVE_INFINITY);
  return newest;
}
