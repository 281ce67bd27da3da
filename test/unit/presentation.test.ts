import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { FragmentWriter } from '../../main/origin/fragment-writer.js';
import { renderMediaPlaylist } from '../../main/origin/hls.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import { livePresentation } from '../../main/origin/presentation.js';
import { SegmentIndex, type TrackRecord } from '../../main/origin/segment-index.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

afterEach(() => {
  closeTestIndexes();
});

function setup(options: Record<string, string>) {
  return testIndex(options, 1_000_000);
}

/** Adds `count` 2 s fragments to a track, from `from` seconds, with a gap before `gapAt` when given. */
function fill(index: SegmentIndex, t: TrackRecord, count: number, from = 0, gapAt?: number): void {
  let time = from;
  for (let i = 0; i < count; i++) {
    if (i === gapAt) time += 10;
    const mediaTime = Math.round(time * t.timescale);
    index.addFragment({
      trackId: t.id,
      mediaTime,
      duration: 2 * t.timescale,
      utc: 1_000_000 + time * 1000,
      size: 250_000,
      file: `${t.trackName}/${mediaTime}.m4s`,
      discontinuity: i === gapAt,
      serverIndex: 0,
    });
    time += 2;
  }
}

describe('livePresentation', () => {
  it('lists only the DVR window, the same span for every track', () => {
    const { index, pp, track } = setup({ dvr_window_length: '10', fragment_duration: '2' });
    const v = track('video_source', 'video', 15360);
    const a = track('audio_source', 'audio', 48000);
    fill(index, v, 20);
    fill(index, a, 20);
    index.setState(pp.name, 'started');
    const view = livePresentation(index, index.getPublishingPoint(pp.name) as typeof pp);
    expect(view.live).toBe(true);
    expect(view.complete).toBe(true);
    for (const t of view.tracks) {
      expect(t.fragments.map((f) => f.sequence)).toEqual([16, 17, 18, 19, 20]);
      expect(t.fragments[0]?.mediaTime).toBe(30 * t.timescale);
    }
    expect(view.tracks.find((t) => t.trackName === 'video_source')?.bandwidth).toBe(1_000_000);
    const playlist = renderMediaPlaylist(view, 'video_source');
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:16');
    expect(playlist).not.toContain('#EXT-X-ENDLIST');
  });

  it('is incomplete while a starting track has no fragment yet (the master would miss a variant)', () => {
    const { index, pp, track } = setup({});
    fill(index, track('video_source', 'video', 1000), 2);
    track('audio_source', 'audio', 48000);
    const view = livePresentation(index, index.getPublishingPoint(pp.name) as typeof pp);
    expect(view.complete).toBe(false);
    expect(view.tracks.map((t) => t.trackName)).toEqual(['video_source']);
  });

  it('lets a viewer ask for a shorter window, never a longer one', () => {
    const { index, pp, track } = setup({ dvr_window_length: '10' });
    const v = track('video_source', 'video', 1000);
    fill(index, v, 20);
    const rec = index.getPublishingPoint(pp.name) as typeof pp;
    expect(livePresentation(index, rec, { dvrWindow: 4 }).tracks[0]?.fragments).toHaveLength(2);
    expect(livePresentation(index, rec, { dvrWindow: 600 }).tracks[0]?.fragments).toHaveLength(5);
  });

  it('marks gaps and counts discontinuities that left the window', () => {
    const { index, pp, track } = setup({ dvr_window_length: '8' });
    const v = track('video_source', 'video', 1000);
    fill(index, v, 12, 0, 3);
    index.setTrackState(v.id, 'started');
    index.setState(pp.name, 'stopped');
    const view = livePresentation(index, index.getPublishingPoint(pp.name) as typeof pp);
    expect(view.live).toBe(false);
    expect(view.complete).toBe(true);
    expect(view.tracks[0]?.discontinuitySequence).toBe(1);
    expect(renderMediaPlaylist(view, 'video_source')).toContain('#EXT-X-ENDLIST');
  });
});

describe('retention', () => {
  it('deletes fragments (index and files) that left the DVR window plus a grace, when not archiving', async () => {
    const { dir, index, pp, track } = setup({
      dvr_window_length: '10',
      archiving: 'false',
      fragment_duration: '2',
    });
    const storage = new OriginStorage(dir);
    const ingest = new FragmentWriter(index, storage, createLogger('silent'));
    const v = track('video_source', 'video', 1000);
    fill(index, v, 20);
    fs.mkdirSync(storage.trackDir(pp.name, 'video_source'), { recursive: true });
    for (let i = 0; i < 20; i++)
      fs.writeFileSync(storage.resolve(pp.name, `video_source/${i * 2000}.m4s`), 'x');
    await ingest.applyRetention(pp.name, v, 40_000);
    // window 10 s + grace max(10 s, 2 fragments) = 20 s kept: fragments from 20 s on.
    const kept = index.fragmentsEndingAfter(v.id, 0).map((f) => f.mediaTime / 1000);
    expect(kept[0]).toBe(20);
    expect(kept).toHaveLength(10);
    expect(fs.existsSync(storage.resolve(pp.name, 'video_source/18000.m4s'))).toBe(false);
    expect(fs.existsSync(storage.resolve(pp.name, 'video_source/20000.m4s'))).toBe(true);
  });

  it('keeps everything when archiving without archive_length, and only archive_length with it', async () => {
    const a = setup({ dvr_window_length: '10', archiving: 'true' });
    const v = a.track('video_source', 'video', 1000);
    fill(a.index, v, 20);
    await new FragmentWriter(a.index, new OriginStorage(a.dir), createLogger('silent')).applyRetention(
      a.pp.name,
      v,
      40_000,
    );
    expect(a.index.fragmentCount(a.pp.name)).toBe(20);
    const b = setup({ dvr_window_length: '10', archiving: 'true', archive_length: '16' });
    const w = b.track('video_source', 'video', 1000);
    fill(b.index, w, 20);
    await new FragmentWriter(b.index, new OriginStorage(b.dir), createLogger('silent')).applyRetention(
      b.pp.name,
      w,
      40_000,
    );
    expect(b.index.fragmentCount(b.pp.name)).toBe(8);
  });
});
