import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import {
  PublishingPointError,
  PublishingPoints,
  type PublishingPointEvent,
} from '../../main/origin/publishing-points.js';
import { parsePurgeTime } from '../../main/origin/purge-time.js';
import { SegmentIndex, type TrackRecord } from '../../main/origin/segment-index.js';
import { openDatabase, type Db } from '../../main/store/database.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const SMIL = `<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>
<meta name="dvr_window_length" content="30" /><meta name="archiving" content="true" /><meta name="x_custom" content="kept" />
</head><body><switch></switch></body></smil>`;

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-pp-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  dbs.push(db);
  const index = new SegmentIndex(db);
  const storage = new OriginStorage(dir);
  const pps = new PublishingPoints(index, storage, createLogger('silent'));
  const events: PublishingPointEvent[] = [];
  pps.on('event', (e) => events.push(e));
  return { dir, index, storage, pps, events };
}

/** `count` 2 s fragments per track from `from` s, files written to disk. */
function archive(s: ReturnType<typeof setup>, id: string, count: number, from = 100): TrackRecord[] {
  const tracks = (['video_source', 'audio_source'] as const).map((name) =>
    s.index.upsertTrack({
      pp: id,
      trackName: name,
      kind: name.startsWith('video') ? 'video' : 'audio',
      timescale: 1000,
      codecs: 'x',
      bitrate: 1000,
      width: null,
      height: null,
      frameRate: null,
      sampleRate: null,
      channels: null,
      audioTrack: null,
    }),
  );
  for (const t of tracks) {
    fs.mkdirSync(s.storage.trackDir(id, t.trackName), { recursive: true });
    for (let i = 0; i < count; i++) {
      const mediaTime = (from + i * 2) * 1000;
      const file = `${t.trackName}/${mediaTime}.m4s`;
      fs.writeFileSync(s.storage.resolve(id, file), 'x');
      s.index.addFragment({
        trackId: t.id,
        mediaTime,
        duration: 2000,
        utc: 0,
        size: 1,
        file,
        discontinuity: false,
        serverIndex: 0,
      });
    }
  }
  return tracks;
}

describe('PublishingPoints.idFromUrlPath', () => {
  it.each([
    ['/channel00/channel00.isml', 'channel00'],
    ['/events/hall/hall.isml', 'events/hall'],
  ])('%s -> %s', (url, id) => expect(PublishingPoints.idFromUrlPath(url)).toBe(id));

  it.each([
    ['/channel00/channel00.txt', 415],
    ['/channel00.isml', 404],
    ['/channel00/other.isml', 400],
    ['/../x/x.isml', 400],
    ['/a%2Fb/b.isml', 400],
    ['//x.isml', 400],
    ['/%E0%A4%A/x.isml', 400],
  ])('%s -> %i', (url, status) => {
    try {
      PublishingPoints.idFromUrlPath(url);
      expect.unreachable();
    } catch (err) {
      expect((err as PublishingPointError).status).toBe(status);
    }
  });
});

describe('PublishingPoints', () => {
  it('creates with options kept verbatim, refuses duplicates and nesting, deletes only when purged', () => {
    const s = setup();
    s.pps.create('ch', SMIL);
    expect(fs.readFileSync(path.join(s.storage.ppDir('ch'), 'ch.isml'), 'utf8')).toContain('x_custom');
    expect(s.pps.read('ch')).toContain('<meta name="x_custom" content="kept" />');
    expect(() => s.pps.create('ch', SMIL)).toThrow(expect.objectContaining({ status: 409 }));
    expect(() => s.pps.create('ch/sub', SMIL)).toThrow(expect.objectContaining({ status: 400 }));
    s.pps.create('events/a', SMIL);
    expect(() => s.pps.create('events', SMIL)).toThrow(expect.objectContaining({ status: 400 }));
    archive(s, 'ch', 3);
    expect(() => s.pps.remove('ch')).toThrow(
      expect.objectContaining({ status: 403, message: expect.stringContaining('not fully purged') }),
    );
    s.index.setState('ch', 'started');
    expect(() => s.pps.update('ch', SMIL)).toThrow(
      expect.objectContaining({ status: 403, message: expect.stringContaining('active') }),
    );
  });

  it('purges what is older than the time kept', async () => {
    const s = setup();
    s.pps.create('ch', SMIL);
    const [v] = archive(s, 'ch', 30); // 100 s .. 160 s
    expect(await s.pps.purge('ch', parsePurgeTime('00:00:10'))).toBe(2 * 25);
    const left = s.index.fragmentsEndingAfter((v as TrackRecord).id, 0).map((f) => f.mediaTime / 1000);
    expect(left).toEqual([150, 152, 154, 156, 158]);
    expect(fs.existsSync(s.storage.resolve('ch', 'video_source/148000.m4s'))).toBe(false);
    expect(fs.existsSync(s.storage.resolve('ch', 'video_source/150000.m4s'))).toBe(true);
  });

  it('purges a range of offsets from the start of the presentation, and a range of ISO times', async () => {
    const s = setup();
    s.pps.create('ch', SMIL);
    const [v] = archive(s, 'ch', 30);
    await s.pps.purge('ch', parsePurgeTime('00:00:00-00:00:10'));
    expect(s.index.firstFragment((v as TrackRecord).id)?.mediaTime).toBe(110_000);
    const pp = s.pps.get('ch');
    const extent = s.pps.extent(pp as NonNullable<typeof pp>) as { start: number; end: number };
    const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '');
    expect(await s.pps.purge('ch', parsePurgeTime(`${iso(extent.start)}-${iso(extent.end)}`))).toBe(2 * 25);
    expect(s.pps.isPurged(pp as NonNullable<typeof pp>)).toBe(true);
  });

  it('reports progress while purging a long archive', async () => {
    const s = setup();
    s.pps.create('ch', SMIL);
    archive(s, 'ch', 700);
    expect(await s.pps.purge('ch', { kind: 'keep', seconds: 0 })).toBe(1400);
    const codes = s.events.map((e) => e.code);
    expect(codes.filter((c) => c === 'PURGE_PROGRESS').length).toBeGreaterThanOrEqual(3);
    expect(codes[codes.length - 1]).toBe('PURGE_DONE');
    expect(s.events.find((e) => e.code === 'PURGE_STARTED')?.message).toBe('purging 1400 fragments');
    expect(s.events.filter((e) => e.code === 'PURGE_PROGRESS').map((e) => e.message)).toContain(
      'purged 1400 of 1400 fragments (100%)',
    );
    s.pps.remove('ch');
    expect(fs.existsSync(s.storage.ppDir('ch'))).toBe(false);
  });
});
