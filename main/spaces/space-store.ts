/** Spaces of stored media and their items, in SQLite; the files live under `<dataDir>/spaces/<id>/`. */
import { randomBase36 } from '../channels/channel-store.js';
import type { Db } from '../store/database.js';

export type SpaceAccess = 'open' | 'secure';

export interface SpaceRecord {
  id: string;
  name: string;
  access: SpaceAccess;
  streaming: boolean;
  createdAt: number;
}

export interface SpaceItem {
  spaceId: string;
  name: string;
  kind: 'video' | 'audio';
  /** Container as ffprobe names it (e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `mp3`). */
  format: string;
  size: number;
  duration: number | null;
  createdAt: number;
}

interface SpaceRow {
  id: string;
  name: string;
  access: SpaceAccess;
  streaming: number;
  created_at: number;
}

export class SpaceStore {
  constructor(private readonly db: Db) {}

  create(name: string, now = Date.now()): SpaceRecord {
    const id = `s_${randomBase36(8)}`;
    this.db.prepare('INSERT INTO spaces (id, name, created_at) VALUES (?, ?, ?)').run(id, name, now);
    return this.get(id) as SpaceRecord;
  }

  get(id: string): SpaceRecord | undefined {
    const r = this.db.prepare('SELECT * FROM spaces WHERE id = ?').get(id) as SpaceRow | undefined;
    return (
      r && { id: r.id, name: r.name, access: r.access, streaming: r.streaming === 1, createdAt: r.created_at }
    );
  }

  list(): SpaceRecord[] {
    return (
      this.db.prepare('SELECT id FROM spaces ORDER BY created_at, id').all() as Array<{ id: string }>
    ).map((r) => this.get(r.id) as SpaceRecord);
  }

  update(id: string, change: { name?: string; access?: SpaceAccess; streaming?: boolean }): void {
    if (change.name !== undefined)
      this.db.prepare('UPDATE spaces SET name = ? WHERE id = ?').run(change.name, id);
    if (change.access !== undefined)
      this.db.prepare('UPDATE spaces SET access = ? WHERE id = ?').run(change.access, id);
    if (change.streaming !== undefined)
      this.db.prepare('UPDATE spaces SET streaming = ? WHERE id = ?').run(change.streaming ? 1 : 0, id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM spaces WHERE id = ?').run(id).changes > 0;
  }

  putItem(item: SpaceItem): void {
    this.db
      .prepare(
        `INSERT INTO space_items (space_id, name, kind, format, size, duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (space_id, name) DO UPDATE SET kind = excluded.kind, format = excluded.format, size = excluded.size,
           duration = excluded.duration, created_at = excluded.created_at`,
      )
      .run(item.spaceId, item.name, item.kind, item.format, item.size, item.duration, item.createdAt);
  }

  item(spaceId: string, name: string): SpaceItem | undefined {
    const r = this.db
      .prepare(
        'SELECT space_id AS spaceId, name, kind, format, size, duration, created_at AS createdAt FROM space_items WHERE space_id = ? AND name = ?',
      )
      .get(spaceId, name);
    return r as SpaceItem | undefined;
  }

  items(spaceId: string): SpaceItem[] {
    return this.db
      .prepare(
        'SELECT space_id AS spaceId, name, kind, format, size, duration, created_at AS createdAt FROM space_items WHERE space_id = ? ORDER BY name',
      )
      .all(spaceId) as SpaceItem[];
  }

  deleteItem(spaceId: string, name: string): boolean {
    return (
      this.db.prepare('DELETE FROM space_items WHERE space_id = ? AND name = ?').run(spaceId, name).changes >
      0
    );
  }
}
