/**
 * The archive and the library (spaces of stored media) together: a channel's archive range as one MP4, either
 * downloaded ("Download MP4") or kept as an item of a space ("Save to library"; by default a space named
 * "Recordings", made when there is none). The MP4 is the best video rendition and its audio, remuxed without
 * re-encoding (`main/origin/archive-export.ts`); a saved item is checked with ffprobe like an upload.
 */
import fs from 'node:fs';
import {
  ControlFailure,
  type LibrarySpaceView,
  type SaveRangeBody,
  type SavedRangeView,
} from '../contract/contract.js';
import { randomHex } from '../lib/random-id.js';
import { ArchiveExportError, exportRange } from '../origin/archive-export.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import { SpaceMediaError, type SpaceFiles } from './space-media.js';
import type { SpaceItem, SpaceRecord, SpaceStore } from './space-store.js';

/** The space "Save to library" uses when none is named. */
export const DEFAULT_LIBRARY_SPACE = 'Recordings';

export interface ArchiveLibraryOptions {
  spaces: SpaceStore;
  files: SpaceFiles;
  pps: PublishingPoints;
  ffmpegPath: string;
  /** Base URL of the origin listener as viewers reach it (`http://host:8080`). */
  originBase: string;
}

/**
 * Moves a file (already next to its place, in `tmp`) into a space as item `name` once ffprobe says what it is;
 * `tmp` is removed when it is refused (415 `UNSUPPORTED_MEDIA_TYPE`).
 */
export async function admitItem(
  spaces: SpaceStore,
  files: SpaceFiles,
  space: SpaceRecord,
  name: string,
  tmp: string,
  now = Date.now(),
): Promise<SpaceItem> {
  try {
    const info = await files.probe(tmp);
    const target = files.itemPath(space.id, name);
    await files.forget(space.id, name);
    fs.renameSync(tmp, target);
    const item: SpaceItem = {
      spaceId: space.id,
      name,
      kind: info.kind,
      format: info.format,
      size: fs.statSync(target).size,
      duration: info.duration,
      createdAt: now,
    };
    spaces.putItem(item);
    return item;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (err instanceof SpaceMediaError) throw new ControlFailure(415, 'UNSUPPORTED_MEDIA_TYPE', err.message);
    throw err;
  }
}

export class ArchiveLibrary {
  constructor(private readonly o: ArchiveLibraryOptions) {}

  /** Every space, with how many items it holds. */
  spaces(): LibrarySpaceView[] {
    return this.o.spaces
      .list()
      .map((s) => ({ id: s.id, name: s.name, items: this.o.spaces.items(s.id).length }));
  }

  /**
   * The archive fragments of `pp` that start in [from, to) (ms since epoch) as one MP4 in a temporary directory;
   * the caller streams it and calls `cleanup`. 404 `ARCHIVE_RANGE_EMPTY` when nothing is there.
   */
  async exportRange(pp: string, from: number, to: number): Promise<{ file: string; cleanup: () => void }> {
    const rec = this.o.pps.get(pp);
    if (!rec) throw new ControlFailure(404, 'PUBLISHING_POINT_NOT_FOUND', `no publishing point ${pp}`);
    try {
      return await exportRange(this.o.pps, rec, from, to, this.o.ffmpegPath);
    } catch (err) {
      if (err instanceof ArchiveExportError) {
        if (err.status === 404) throw new ControlFailure(404, 'ARCHIVE_RANGE_EMPTY', err.message);
        throw new ControlFailure(500, 'EXPORT_FAILED', err.message);
      }
      throw err;
    }
  }

  /** Saves an archive range of `pp` as item `name` of a space (by default "Recordings", made when missing). */
  async saveRange(pp: string, body: SaveRangeBody): Promise<SavedRangeView> {
    const space = this.spaceFor(body.spaceId);
    const exported = await this.exportRange(pp, Date.parse(body.from), Date.parse(body.to));
    try {
      fs.mkdirSync(this.o.files.spaceDir(space.id), { recursive: true });
      const tmp = `${this.o.files.itemPath(space.id, body.name)}.upload-${randomHex(6)}`;
      fs.copyFileSync(exported.file, tmp);
      const item = await admitItem(this.o.spaces, this.o.files, space, body.name, tmp);
      const base = `${this.o.originBase}/media/${space.id}/${encodeURIComponent(item.name)}`;
      return {
        spaceId: space.id,
        spaceName: space.name,
        name: item.name,
        kind: item.kind,
        size: item.size,
        duration: item.duration,
        hls: `${base}/index.m3u8`,
        progressive: base,
      };
    } finally {
      exported.cleanup();
    }
  }

  private spaceFor(spaceId: string | undefined): SpaceRecord {
    if (spaceId !== undefined) {
      const s = this.o.spaces.get(spaceId);
      if (!s) throw new ControlFailure(404, 'SPACE_NOT_FOUND', `no space ${spaceId}`);
      return s;
    }
    return (
      this.o.spaces.list().find((s) => s.name === DEFAULT_LIBRARY_SPACE) ??
      this.o.spaces.create(DEFAULT_LIBRARY_SPACE)
    );
  }
}
