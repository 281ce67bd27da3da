/** A segment index on a temporary database, with one publishing point and a track factory, for unit tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SegmentIndex,
  type PublishingPointRecord,
  type TrackRecord,
} from '../../main/origin/segment-index.js';
import { openDatabase, type Db } from '../../main/store/database.js';

const open: Array<{ db: Db; dir: string }> = [];

/** Closes and removes every index opened by {@link testIndex} (call in afterEach). */
export function closeTestIndexes(): void {
  for (const { db, dir } of open.splice(0)) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function testIndex(options: Record<string, string>, createdAt: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-index-'));
  const db = openDatabase(dir);
  open.push({ db, dir });
  const index = new SegmentIndex(db);
  const pp: PublishingPointRecord = index.createPublishingPoint('0_abcdefgh', options, createdAt);
  /** A 640x360 video track paired with audio_source, or an audio track. */
  const track = (name: string, kind: 'video' | 'audio', timescale: number): TrackRecord =>
    index.upsertTrack({
      pp: pp.name,
      trackName: name,
      kind,
      timescale,
      codecs: kind === 'video' ? 'avc1.64001e' : 'mp4a.40.2',
      bitrate: null,
      width: kind === 'video' ? 640 : null,
      height: kind === 'video' ? 360 : null,
      frameRate: null,
      sampleRate: null,
      channels: null,
      audioTrack: kind === 'video' ? 'audio_source' : null,
    });
  return { dir, db, index, pp, track };
}
