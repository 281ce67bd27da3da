/**
 * The origin listener: what viewers and caches fetch. Publishing point URLs follow Unified Streaming:
 * `/<path>/<name>.isml/.m3u8` (HLS master), `.../.mpd` (DASH), under `tracks/` the media playlists, init
 * segments and fragments; `/state`, `/statistics`, `/archive` for allowed addresses or admin credentials;
 * `POST .../purge?t=` with admin credentials. Every answer comes from the segment index.
 */
import fs from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { clientAddress, verifyRequest } from '../access/signed-url.js';
import { markSigned, registerSignedCaching } from '../access/signed-cache.js';
import type { SigningKey } from '../access/signing-keys.js';
import { hasAdminCredentials } from '../access/admin-credentials.js';
import { listenerOptions } from '../lib/http-server.js';
import type { AllowList } from '../lib/ip-allow-list.js';
import type { Logger } from '../lib/logger.js';
import { AnswerMemo, type IndexVersion } from '../origin/answer-memo.js';
import { renderMpd } from '../origin/dash.js';
import { bucketOf, bucketRange, groupLength, groupMembers, groupView } from '../origin/fragment-groups.js';
import { IndexMemo, ManifestCache } from '../origin/manifest-cache.js';
import { FragmentWaiters } from '../origin/fragment-waiters.js';
import { partTargetOf, renderMasterPlaylist, renderMediaPlaylist, targetDurationOf } from '../origin/hls.js';
import { holds, parseDeliveryDirectives, tooFarAhead } from '../origin/ll-hls.js';
import type { PresentationView, TrackView } from '../origin/manifest-model.js';
import type { OriginStorage } from '../origin/origin-storage.js';
import { parsePlayout, playoutPresentation, type PlayoutQuery } from '../origin/playout.js';
import { resolvePpOptions } from '../origin/publishing-point-options.js';
import { PublishingPoints } from '../origin/publishing-points.js';
import { parsePurgeTime, PurgeTimeError } from '../origin/purge-time.js';
import type { FragmentRecord, PublishingPointRecord, SegmentIndex } from '../origin/segment-index.js';
import { renderArchive, renderState, renderStatistics } from '../origin/smil.js';
import type { ViewerStats } from '../origin/viewer-stats.js';
import type { SpaceFiles } from '../spaces/space-media.js';
import { registerSpaceRoutes } from '../spaces/space-routes.js';
import { registerPortal, signatureVerifier, type PortalDeps } from '../portal/portal.js';
import type { SpaceStore } from '../spaces/space-store.js';

export interface OriginServerOptions {
  index: SegmentIndex;
  storage: OriginStorage;
  pps: PublishingPoints;
  adminToken: string;
  /** Who may read /state, /statistics and /archive without admin credentials. */
  statusAllow: AllowList;
  /** Viewer access of a publishing point: `secure` ones need a signed URL. */
  accessFor: (pp: string) => 'open' | 'secure';
  keys: { find(id: string): SigningKey | undefined };
  /** Proxies whose X-Forwarded-For names the viewer. */
  trustedProxies: AllowList;
  /** Viewer statistics: every answered manifest, init segment and fragment request. */
  stats?: ViewerStats;
  /** Stored media (spaces), served under /media/. */
  spaces?: { spaces: SpaceStore; files: SpaceFiles };
  /** The viewer portal (/, /watch, /embed, /spaces, /player): what it lists. No portal when absent. */
  portal?: Pick<PortalDeps, 'listChannels' | 'listSpaces'>;
  log: Logger;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Playout control parameters a master playlist carries into its media playlists. */
const PLAYOUT_PARAMS = ['dvr_window_length', 'time_shift', 'vbegin', 'vend'];
const SMIL_TYPE = 'application/smil+xml; charset=utf-8';
/** Publishing point resources for operators, not viewers: never counted, never memoised. */
const STATUS_RESOURCE = /^(state|statistics|archive)$/;

/** Init segments and fragments count per rendition; playlists and MPDs as manifest requests. */
function renditionOf(rest: string): string {
  return /^tracks\/([A-Za-z0-9_-]+)\//.exec(rest)?.[1] ?? 'manifest';
}

/** `/<path>/<name>.isml[/<rest>]` → the publishing point id and the virtual path after it. */
function splitPpUrl(urlPath: string): { id: string; rest: string } | undefined {
  const m = /^(\/.+?\.isml)(?:\/(.*))?$/.exec(urlPath);
  if (!m) return undefined;
  try {
    return { id: PublishingPoints.idFromUrlPath(m[1] as string), rest: m[2] ?? '' };
  } catch {
    return undefined;
  }
}

/** The request's publishing point and path within it, worked out once per request (handler and statistics). */
const targets = new WeakMap<FastifyRequest, { id: string; rest: string } | null>();
function targetOf(req: FastifyRequest): { id: string; rest: string } | undefined {
  let t = targets.get(req);
  if (t === undefined) {
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    t = splitPpUrl(q === -1 ? url : url.slice(0, q)) ?? null;
    targets.set(req, t);
  }
  return t ?? undefined;
}

export function createOriginServer(o: OriginServerOptions): FastifyInstance {
  // Repeated viewer requests are answered from the memo before the router sees them; everything else (and
  // every first request) goes through the routes below, which fill the memo.
  const answers = new AnswerMemo(() => ({ writes: o.index.writes, removals: o.index.removals }));
  let closing = false;
  const countViewer = (req: http.IncomingMessage, pp: string, rendition: string, bytes: number) =>
    o.stats?.record(
      pp,
      rendition,
      clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], o.trustedProxies) ?? 'unknown',
      String(req.headers['user-agent'] ?? ''),
      bytes,
    );
  const replay = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (closing || req.method !== 'GET' || req.url === undefined) return false;
    const a = answers.get(req.url);
    if (!a || o.accessFor(a.pp) !== 'open') return false;
    res.writeHead(200, a.headers);
    res.end(a.body);
    countViewer(req, a.pp, a.rendition, a.body.length);
    return true;
  };
  const base = listenerOptions(o.log, 'origin');
  const app = Fastify({
    ...base,
    serverFactory: (handler) => {
      const server = http.createServer((req, res) => {
        if (!replay(req, res)) handler(req, res);
      });
      // What Fastify sets, by default, on a server it creates itself.
      server.keepAliveTimeout = 72_000;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
  });

  /** The index counters when each plain GET arrived: an answer is memoised at the version it was computed at. */
  const versions = new WeakMap<FastifyRequest, IndexVersion>();
  // Callback-style hooks (not async): they run on every response, and a promise each costs at viewer scale.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Date');
    if (req.method === 'GET') versions.set(req, { writes: o.index.writes, removals: o.index.removals });
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    try {
      if (!o.stats || req.method !== 'GET' || reply.statusCode >= 300) return;
      const target = targetOf(req);
      if (!target || STATUS_RESOURCE.test(target.rest)) return;
      const bytes = Number(reply.getHeader('content-length') ?? 0) || 0;
      countViewer(req.raw, target.id, renditionOf(target.rest), bytes);
    } finally {
      done();
    }
  });
  app.options('/*', async (_req, reply) => {
    reply
      .header('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
      .header('Access-Control-Allow-Headers', 'Range')
      .code(204)
      .send();
  });
  // purge carries no body worth reading.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  // Low-latency HLS: requests waiting for a fragment, woken by the ingest; released at once when the listener
  // closes, so a shutdown never waits for them.
  const waiters = FragmentWaiters.for(o.index);
  const blocking = new BlockedRequests();
  const manifests = new ManifestCache();
  const memo = new IndexMemo(() => o.index.writes);
  app.addHook('preClose', async () => {
    closing = true;
    answers.clear();
    blocking.releaseAll();
  });
  // Keeps what any viewer may be given again: a signed answer is never kept (its URL has a query string).
  app.addHook('onSend', (req, reply, payload, done) => {
    const url = req.raw.url ?? '';
    const version = versions.get(req);
    const target = targetOf(req);
    if (
      version &&
      reply.statusCode === 200 &&
      !url.includes('?') &&
      target &&
      !STATUS_RESOURCE.test(target.rest) &&
      (typeof payload === 'string' || Buffer.isBuffer(payload)) &&
      o.accessFor(target.id) === 'open'
    ) {
      const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      const headers: http.OutgoingHttpHeaders = {
        ...(reply.getHeaders() as http.OutgoingHttpHeaders),
        'content-length': body.length,
      };
      answers.set(url, { pp: target.id, rendition: renditionOf(target.rest), headers, body }, version);
    }
    done(null, payload);
  });

  const lookup = (req: FastifyRequest): { pp: PublishingPointRecord; rest: string } | undefined => {
    const target = targetOf(req);
    const pp = target && memo.get(`p ${target.id}`, () => o.index.getPublishingPoint(target.id));
    return pp && target ? { pp, rest: target.rest } : undefined;
  };

  registerSignedCaching(app);
  if (o.spaces) registerSpaceRoutes(app, { ...o.spaces, keys: o.keys, trustedProxies: o.trustedProxies });
  if (o.portal) registerPortal(app, { ...o.portal, verify: signatureVerifier(o.keys, o.trustedProxies) });

  app.get('/*', async (req, reply) => {
    const found = lookup(req);
    if (!found) return notFound(reply, 'no such publishing point');
    const { pp, rest } = found;
    const name = pp.name;

    if (rest === 'state' || rest === 'statistics' || rest === 'archive') {
      if (!o.statusAllow.allows(req.socket.remoteAddress) && !hasAdminCredentials(req, o.adminToken)) {
        return reply
          .code(403)
          .type('text/plain')
          .send(`403 /${rest} is limited to allowed addresses or admin credentials\n`);
      }
      reply.type(SMIL_TYPE).header('Cache-Control', 'no-store');
      if (rest === 'state') return reply.send(renderState(pp.updatedAt, pp.state));
      const now = Date.now();
      const tracks = o.pps.smilTracks(pp);
      const records = o.index.tracks(name);
      if (rest === 'statistics') {
        return reply.send(
          renderStatistics(
            now,
            tracks.map((t, i) => {
              const r = records[i] as (typeof records)[number];
              const first = o.index.firstFragment(r.id);
              const last = o.index.lastFragment(r.id);
              const duration =
                first && last ? (last.mediaTime + last.duration - first.mediaTime) / r.timescale : 0;
              return { ...t, state: r.state, updated: r.updatedAt, duration };
            }),
          ),
        );
      }
      return reply.send(
        renderArchive(
          now,
          tracks.map((t, i) => {
            const r = records[i] as (typeof records)[number];
            const toMs = (v: number) => pp.epoch + (v / r.timescale) * 1000;
            const ranges = o.index
              .ranges(r.id, Math.round(r.timescale / 10))
              .map((x) => ({ start: toMs(x.start), end: toMs(x.end) }));
            return { ...t, ranges };
          }),
        ),
      );
    }

    // Secure access: every manifest, init segment and fragment needs a valid signature, which the manifests
    // then carry into every child URL (with the playout parameters), so players need nothing special.
    const query = req.query as Record<string, string | string[] | undefined>;
    const carried = new URLSearchParams();
    for (const k of PLAYOUT_PARAMS) if (typeof query[k] === 'string') carried.set(k, query[k] as string);
    let urlSuffix = carried.size > 0 ? `?${carried.toString()}` : '';
    if (o.accessFor(pp.name) === 'secure') {
      const url = req.raw.url ?? '/';
      const q = url.indexOf('?');
      const viewer = clientAddress(
        req.socket.remoteAddress,
        req.headers['x-forwarded-for'],
        o.trustedProxies,
      );
      let path: string;
      try {
        path = decodeURIComponent(q === -1 ? url : url.slice(0, q));
      } catch {
        return badRequest(reply, 'invalid URL encoding in the path');
      }
      const v = verifyRequest(o.keys, path, query, viewer);
      if (!v.ok) {
        return reply
          .code(403)
          .header('X-Ecdn-Denied', v.denial)
          .header('Cache-Control', 'no-store')
          .type('text/plain')
          .send(`403 ${v.reason}\n`);
      }
      urlSuffix = urlSuffix ? `${urlSuffix}&${v.suffix.replace(/^\?/, '')}` : v.suffix;
      markSigned(req, query);
    }
    const opts = resolvePpOptions(pp.options);
    const isMaster = /^[^/]*\.m3u8$/.test(rest);
    const isMpd = /^[^/]*\.mpd$/.test(rest);
    const media = /^tracks\/([A-Za-z0-9_-]+)\.m3u8$/.exec(rest);
    if (isMaster || isMpd || media) {
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
      const cacheKey =
        directives.msn === undefined ? `${o.accessFor(pp.name)} ${req.raw.url ?? ''}` : undefined;
      const hit = cacheKey === undefined ? undefined : manifests.get(cacheKey, writes);
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
        if (cacheKey !== undefined) manifests.set(cacheKey, writes, { type, cacheControl: cache, body });
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
        const wait = blocking.begin(reply);
        try {
          while (shown.lowLatency && !holds(track, directives.msn, directives.part)) {
            const far = tooFarAhead(track, directives, partTargetOf(shown, track));
            if (far) return badRequest(reply.header('Cache-Control', 'no-store'), far);
            if (o.index.getTrack(name, trackName)?.state === 'stopped') break;
            const woke = await waiters.wait(name, trackName, deadline - Date.now(), wait.signal);
            if (woke === 'timeout' || woke === 'aborted') {
              return unavailable(reply, `_HLS_msn=${directives.msn} did not arrive in time`);
            }
            const again = o.index.getPublishingPoint(name);
            const next = again && present(again);
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
    const group = /^tracks\/([A-Za-z0-9_-]+)\/g(\d{1,9})-(?:(\d{1,16})|n(\d{1,16}))\.m4s$/.exec(rest);
    if (group) {
      const track = memo.get(`t ${name} ${group[1]}`, () => o.index.getTrack(name, group[1] as string));
      const lengthMs = Number(group[2]);
      // Only the lengths this publishing point combines fragments to: a made-up length must not make the
      // origin read (and hold) an arbitrary part of the archive.
      const allowed = [groupLength(pp.options, 'hls'), groupLength(pp.options, 'mpd')];
      if (!track || lengthMs <= 0 || !allowed.includes(lengthMs)) return notFound(reply, 'no such segment');
      const b =
        group[3] !== undefined ? bucketOf(Number(group[3]), track.timescale, lengthMs) : Number(group[4]);
      const { members, closed } = groupMembers(o.index, track, lengthMs, b);
      if (members.length === 0 || (group[3] !== undefined && members[0]?.mediaTime !== Number(group[3]))) {
        return notFound(reply, 'no such segment');
      }
      const { end } = bucketRange(b, track.timescale, lengthMs);
      const last = members[members.length - 1] as { mediaTime: number; duration: number };
      // Low latency: a group runs to the next key frame, so it is finished once the next one has started.
      const finished =
        (opts.hlsLowLatency ? closed : last.mediaTime + last.duration >= end - track.timescale / 60) ||
        track.state === 'stopped';
      const files = members.map((f) => o.storage.resolve(name, f.file));
      const cacheControl = finished ? IMMUTABLE : 'public, max-age=1';
      const inMemory = files.map((f) => o.storage.cache.get(f));
      if (inMemory.every((b): b is Buffer => b !== undefined)) {
        return reply
          .type('video/iso.segment')
          .header('Cache-Control', cacheControl)
          .send(Buffer.concat(inMemory));
      }
      const sizes = await Promise.all(files.map(async (f) => (await fs.promises.stat(f)).size));
      // The members one after another, never all in memory.
      const body = Readable.from(
        (async function* () {
          for (const f of files) yield* fs.createReadStream(f);
        })(),
      );
      return reply
        .type('video/iso.segment')
        .header(
          'Content-Length',
          sizes.reduce((x, y) => x + y, 0),
        )
        .header('Cache-Control', cacheControl)
        .send(body);
    }
    const file = /^tracks\/([A-Za-z0-9_-]+)\/(init\.mp4|(\d{1,16})\.m4s|n(\d{1,12})\.m4s)$/.exec(rest);
    if (file) {
      const track = memo.get(`t ${name} ${file[1]}`, () => o.index.getTrack(name, file[1] as string));
      if (!track) return notFound(reply, 'no such track');
      if (file[2] === 'init.mp4')
        return sendFile(reply, o.storage, o.storage.initPath(name, track.trackName), 'public, max-age=60');
      const find = (): FragmentRecord | undefined =>
        memo.get(`f ${track.id} ${file[3] ?? `n${file[4]}`}`, () =>
          file[3] !== undefined
            ? o.index.fragmentByTime(track.id, Number(file[3]))
            : o.index.fragmentBySequence(track.id, Number(file[4])),
        );
      let fragment = find();
      if (!fragment && file[4] !== undefined && opts.hlsLowLatency && track.state !== 'stopped') {
        // Low latency: the part a playlist's preload hint names (the one after the newest) is answered when it
        // arrives, within three part durations; any other missing fragment is a 404 at once.
        const sequence = Number(file[4]);
        const newest = o.index.lastFragment(track.id);
        if (newest && sequence === newest.sequence + 1) {
          const deadline = Date.now() + 3 * opts.hlsPartDuration * 1000;
          const wait = blocking.begin(reply);
          try {
            while (!fragment) {
              const woke = await waiters.wait(name, track.trackName, deadline - Date.now(), wait.signal);
              if (woke === 'timeout' || woke === 'aborted') break;
              fragment = find();
              if (woke === 'ended') break;
            }
          } finally {
            wait.end();
          }
        }
      }
      if (!fragment) return notFound(reply, 'no such fragment');
      return sendFile(reply, o.storage, o.storage.resolve(name, fragment.file), IMMUTABLE);
    }
    return notFound(reply, 'unknown resource');
  });

  app.post('/*', async (req, reply) => {
    const found = lookup(req);
    if (!found || found.rest !== 'purge') return notFound(reply, 'unknown resource');
    if (!hasAdminCredentials(req, o.adminToken)) {
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="ecdn-admin"')
        .type('text/plain')
        .send('401 purge needs admin credentials\n');
    }
    let spec;
    try {
      spec = parsePurgeTime((req.query as Record<string, string | undefined>).t);
    } catch (err) {
      if (err instanceof PurgeTimeError) return badRequest(reply, err.message);
      throw err;
    }
    const purged = await o.pps.purge(found.pp.name, spec);
    return reply.type('text/plain').send(`purged ${purged} fragments\n`);
  });

  app.setNotFoundHandler((_req, reply) => notFound(reply, 'unknown resource'));
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: err.message, url: req.url }, 'origin error');
    reply
      .code(status)
      .type('text/plain')
      .send(status >= 500 ? 'internal error' : err.message);
  });
  return app;
}

/** Start (ms since epoch) of the newest fragment of any track. */
function newestUtc(index: SegmentIndex, pp: string): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const t of index.tracks(pp))
    newest = Math.max(newest, index.lastFragment(t.id)?.utc ?? Number.NEGATIVE_INFINITY);
  return newest;
}

function notFound(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(404).type('text/plain').header('Cache-Control', 'no-cache').send(`404 ${reason}\n`);
}

function badRequest(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(400).type('text/plain').send(`400 ${reason}\n`);
}

function unavailable(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(503).type('text/plain').header('Cache-Control', 'no-store').send(`503 ${reason}\n`);
}

/** Requests the origin holds (blocking reloads, hinted parts): each ends when its viewer leaves or the listener closes. */
class BlockedRequests {
  private readonly held = new Set<AbortController>();
  private closing = false;

  begin(reply: FastifyReply): { signal: AbortSignal; end: () => void } {
    const c = new AbortController();
    const gone = (): void => c.abort();
    reply.raw.once('close', gone);
    if (this.closing) c.abort();
    this.held.add(c);
    return {
      signal: c.signal,
      end: () => {
        this.held.delete(c);
        reply.raw.off('close', gone);
      },
    };
  }

  releaseAll(): void {
    this.closing = true;
    for (const c of this.held) c.abort();
  }
}

/** A fragment or init segment: from the shared memory cache, else read once and put there. */
async function sendFile(
  reply: FastifyReply,
  storage: OriginStorage,
  file: string,
  cache: string,
): Promise<FastifyReply> {
  try {
    let data = storage.cache.get(file);
    if (!data) {
      data = await fs.promises.readFile(file);
      storage.cache.set(file, data);
    }
    return reply
      .type(file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment')
      .header('Cache-Control', cache)
      .send(data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notFound(reply, 'fragment not on disk');
    throw err;
  }
}
