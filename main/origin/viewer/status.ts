/** A publishing point's status resources in SMIL (`/state`, `/statistics`, `/archive`), for operators. */
import type { FastifyRequest } from 'fastify';
import type { AllowList } from '../../lib/ip-allow-list.js';
import type { SegmentIndex, PublishingPointRecord } from '../segment-index.js';
import { renderArchive, renderState, renderStatistics, type SmilTrack } from '../smil.js';
import type { IsAdmin, PpRequest, ViewerResource } from './viewer-deps.js';

const SMIL_TYPE = 'application/smil+xml; charset=utf-8';
/** Publishing point resources for operators, not viewers: never counted, never memoised. */
export const STATUS_RESOURCE = /^(state|statistics|archive)$/;

export interface StatusDeps {
  index: Pick<SegmentIndex, 'tracks' | 'firstFragment' | 'lastFragment' | 'ranges'>;
  /** The publishing point's tracks as its server manifest lists them (`PublishingPoints.smilTracks`). */
  smilTracks: (pp: PublishingPointRecord) => SmilTrack[];
  /** Who may read /state, /statistics and /archive without admin credentials. */
  statusAllow: Pick<AllowList, 'allows'>;
  /** The client's address: the socket's, or the viewer's behind a trusted proxy (a local edge counts as it). */
  clientOf: (req: FastifyRequest) => string | undefined;
  isAdmin: IsAdmin;
}

/** `/state`, `/statistics`, `/archive` for allowed addresses or admin credentials; undefined for other paths. */
export function statusResources(o: StatusDeps): ViewerResource<PpRequest> {
  return (req, reply, { pp, rest }) => {
    if (!(rest === 'state' || rest === 'statistics' || rest === 'archive')) return undefined;
    const name = pp.name;
    // For operators, not pages on other sites: no CORS header on these.
    reply.removeHeader('Access-Control-Allow-Origin');
    reply.removeHeader('Access-Control-Expose-Headers');
    const client = o.clientOf(req);
    if (!(client !== undefined && o.statusAllow.allows(client)) && !o.isAdmin(req)) {
      return reply
        .code(403)
        .type('text/plain')
        .send(`403 /${rest} is limited to allowed addresses or admin credentials\n`);
    }
    reply.type(SMIL_TYPE).header('Cache-Control', 'no-store');
    if (rest === 'state') return reply.send(renderState(pp.updatedAt, pp.state));
    const now = Date.now();
    const tracks = o.smilTracks(pp);
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
  };
}
