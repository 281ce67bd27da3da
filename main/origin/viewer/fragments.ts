/** A track's media: init segments, fragments (low-latency hinted parts included) and grouped segments. */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { bucketOf, bucketRange, groupLength, groupMembers } from '../fragment-groups.js';
import type { FragmentWaiters } from '../fragment-waiters.js';
import type { OriginStorage } from '../origin-storage.js';
import type { FragmentRecord, SegmentIndex } from '../segment-index.js';
import type { BlockedRequests } from './blocked-requests.js';
import { notFound } from './replies.js';
import type { GrantedRequest, ViewerCaches, ViewerResource } from './viewer-deps.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface FragmentDeps {
  index: SegmentIndex;
  /** Where a publishing point's files are on disk. */
  storage: Pick<OriginStorage, 'resolve' | 'initPath' | 'runInitPath'>;
  caches: Pick<ViewerCaches, 'indexed' | 'fragment' | 'keepFragment'>;
  /** Low-latency HLS: woken by the fragment writer when a fragment of the track is indexed. */
  waiters: Pick<FragmentWaiters, 'wait'>;
  blocking: BlockedRequests;
}

/**
 * `tracks/<track>/g<ms>-<time>.m4s` (or `-n<bucket>`), `tracks/<track>/init.mp4` (and each run's
 * `init-<run start>.mp4`), `<time>.m4s` and
 * `n<sequence>.m4s`; undefined for any other path.
 */
export function fragmentResources(o: FragmentDeps): ViewerResource {
  return (_req, reply, at) => {
    const group = /^tracks\/([A-Za-z0-9_-]+)\/g(\d{1,9})-(?:(\d{1,16})|n(\d{1,16}))\.m4s$/.exec(at.rest);
    if (group) return sendGroup(o, reply, at, group);
    const file =
      /^tracks\/([A-Za-z0-9_-]+)\/(init\.mp4|init-(\d{1,16})\.mp4|(\d{1,16})\.m4s|n(\d{1,12})\.m4s)$/.exec(
        at.rest,
      );
    if (file) return sendTrackFile(o, reply, at, file);
    return undefined;
  };
}

/** Fragments combined to one segment of the given length. */
async function sendGroup(
  o: FragmentDeps,
  reply: FastifyReply,
  { pp, opts }: GrantedRequest,
  group: RegExpExecArray,
): Promise<FastifyReply> {
  const name = pp.name;
  const track = o.caches.indexed(`t ${name} ${group[1]}`, () => o.index.getTrack(name, group[1] as string));
  const lengthMs = Number(group[2]);
  // Only the lengths this publishing point combines fragments to: a made-up length must not make the
  // origin read (and hold) an arbitrary part of the archive.
  const allowed = [groupLength(pp.options, 'hls'), groupLength(pp.options, 'mpd')];
  if (!track || lengthMs <= 0 || !allowed.includes(lengthMs)) return notFound(reply, 'no such segment');
  const b = group[3] !== undefined ? bucketOf(Number(group[3]), track.timescale, lengthMs) : Number(group[4]);
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
  const inMemory = files.map((f) => o.caches.fragment(f));
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

/** A track's init segment or one fragment. */
async function sendTrackFile(
  o: FragmentDeps,
  reply: FastifyReply,
  { pp, opts }: GrantedRequest,
  file: RegExpExecArray,
): Promise<FastifyReply> {
  const name = pp.name;
  const track = o.caches.indexed(`t ${name} ${file[1]}`, () => o.index.getTrack(name, file[1] as string));
  if (!track) return notFound(reply, 'no such track');
  if (file[2] === 'init.mp4')
    return sendFile(reply, o.caches, o.storage.initPath(name, track.trackName), 'public, max-age=60');
  // A run's own init segment never changes once written.
  if (file[3] !== undefined)
    return sendFile(
      reply,
      o.caches,
      o.storage.runInitPath(name, track.trackName, Number(file[3])),
      IMMUTABLE,
    );
  const [time, sequenceText] = [file[4], file[5]];
  const find = (): FragmentRecord | undefined =>
    o.caches.indexed(`f ${track.id} ${time ?? `n${sequenceText}`}`, () =>
      time !== undefined
        ? o.index.fragmentByTime(track.id, Number(time))
        : o.index.fragmentBySequence(track.id, Number(sequenceText)),
    );
  let fragment = find();
  if (!fragment && sequenceText !== undefined && opts.hlsLowLatency && track.state !== 'stopped') {
    // Low latency: the part a playlist's preload hint names (the one after the newest) is answered when it
    // arrives, within three part durations; any other missing fragment is a 404 at once.
    const sequence = Number(sequenceText);
    const newest = o.index.lastFragment(track.id);
    if (newest && sequence === newest.sequence + 1 && !o.blocking.full) {
      const deadline = Date.now() + 3 * opts.hlsPartDuration * 1000;
      const wait = o.blocking.begin(reply);
      try {
        while (!fragment) {
          const woke = await o.waiters.wait(name, track.trackName, deadline - Date.now(), wait.signal);
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
  return sendFile(reply, o.caches, o.storage.resolve(name, fragment.file), IMMUTABLE);
}

/** A fragment or init segment: from the shared memory cache, else read once and put there. */
async function sendFile(
  reply: FastifyReply,
  caches: Pick<ViewerCaches, 'fragment' | 'keepFragment'>,
  file: string,
  cache: string,
): Promise<FastifyReply> {
  try {
    let data = caches.fragment(file);
    if (!data) {
      data = await fs.promises.readFile(file);
      caches.keepFragment(file, data);
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
