/** Archive segments: a tiny archive_segment_length over a long archive cannot make the origin list millions of them. */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { archiveSegments, MAX_ARCHIVE_SEGMENTS } from '../../main/origin/archive-export.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import { PublishingPoints } from '../../main/origin/publishing-points.js';
import type { PublishingPointRecord } from '../../main/origin/segment-index.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

afterEach(closeTestIndexes);

const EPOCH = Date.UTC(2024, 4, 1, 0, 0, 0);

describe('archiveSegments', () => {
  it('stretches a tiny segment length so a 24-hour archive lists at most the limit, quickly', () => {
    const { dir, db, index, pp, track } = testIndex({ archive_segment_length: '0.001' }, EPOCH + 10_000);
    const video = track('video_source', 'video', 1000);
    db.transaction(() => {
      for (let s = 0; s < 86_400; s += 2)
        index.addFragment({
          trackId: video.id,
          mediaTime: s * 1000,
          duration: 2000,
          utc: pp.epoch + s * 1000,
          size: 1000,
          file: `video_source/${s * 1000}.m4s`,
          discontinuity: false,
          serverIndex: 0,
        });
    })();
    const pps = new PublishingPoints(index, new OriginStorage(dir), createLogger('silent'));
    const segments = archiveSegments(pps, index.getPublishingPoint(pp.name) as PublishingPointRecord);
    expect(segments.length).toBeLessThanOrEqual(MAX_ARCHIVE_SEGMENTS);
    expect(segments.length).toBeGreaterThan(MAX_ARCHIVE_SEGMENTS / 2);
    expect(segments.reduce((n, s) => n + s.fragments, 0)).toBe(43_200);
  });
});
