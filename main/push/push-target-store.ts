/** Push targets per channel, in SQLite (the URL holds a stream key: the data directory is private). */
import type { Statement } from 'better-sqlite3';
import { randomHex } from '../lib/random-id.js';
import type { Db } from '../store/database.js';
import { checkPushUrl, completeKalturaUrl, type PushProtocol } from './push-target-url.js';

export interface PushTargetRecord {
  id: string;
  entryId: string;
  name: string;
  /** The full URL, stream key included: never shown or logged as is. */
  url: string;
  protocol: PushProtocol;
  /** What is pushed: `source` (the encoder's stream, copied). */
  /** `source` (the encoder's stream) or a transcoded rendition's name in the conversion profile (`720`). */
  rendition: string;
  enabled: boolean;
  createdAt: number;
}

interface Row {
  id: string;
  entry_id: string;
  name: string;
  url: string;
  /** `source` (the encoder's stream) or a transcoded rendition's name in the conversion profile (`720`). */
  rendition: string;
  enabled: number;
  created_at: number;
}

/** At most this many targets per channel. */
export const MAX_TARGETS_PER_CHANNEL = 8;

export class PushTargetStore {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {}

  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  list(entryId: string): PushTargetRecord[] {
    return (
      this.stmt('SELECT * FROM push_targets WHERE entry_id = ? ORDER BY created_at, id').all(entryId) as Row[]
    ).map(toRecord);
  }

  get(entryId: string, id: string): PushTargetRecord | undefined {
    const row = this.stmt('SELECT * FROM push_targets WHERE entry_id = ? AND id = ?').get(entryId, id) as
      Row | undefined;
    return row && toRecord(row);
  }

  create(
    entryId: string,
    t: { url: string; name: string; enabled: boolean; rendition?: string },
    now = Date.now(),
  ): PushTargetRecord {
    checkPushUrl(t.url);
    const id = randomHex(6);
    this.stmt(
      'INSERT INTO push_targets (id, entry_id, name, url, rendition, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(id, entryId, t.name, completeKalturaUrl(t.url), t.rendition ?? 'source', t.enabled ? 1 : 0, now);
    return this.get(entryId, id) as PushTargetRecord;
  }

  update(
    entryId: string,
    id: string,
    change: { name?: string; enabled?: boolean },
  ): PushTargetRecord | undefined {
    if (change.name !== undefined)
      this.stmt('UPDATE push_targets SET name = ? WHERE entry_id = ? AND id = ?').run(
        change.name,
        entryId,
        id,
      );
    if (change.enabled !== undefined)
      this.stmt('UPDATE push_targets SET enabled = ? WHERE entry_id = ? AND id = ?').run(
        change.enabled ? 1 : 0,
        entryId,
        id,
      );
    return this.get(entryId, id);
  }

  delete(entryId: string, id: string): boolean {
    return this.stmt('DELETE FROM push_targets WHERE entry_id = ? AND id = ?').run(entryId, id).changes > 0;
  }

  deleteChannel(entryId: string): void {
    this.stmt('DELETE FROM push_targets WHERE entry_id = ?').run(entryId);
  }
}

function toRecord(r: Row): PushTargetRecord {
  return {
    id: r.id,
    entryId: r.entry_id,
    name: r.name,
    url: r.url,
    protocol: checkPushUrl(r.url),
    rendition: r.rendition,
    enabled: r.enabled === 1,
    createdAt: r.created_at,
  };
}
