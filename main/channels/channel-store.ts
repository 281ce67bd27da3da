/** Channels (local live entries) and their event lists, in SQLite. */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';

export interface ChannelRecord {
  entryId: string;
  partnerId: number;
  name: string;
  token: string;
  createdAt: number;
  /** False after `stop`: publishes are refused until `start`. */
  accepting: boolean;
  /** Viewer access: `open` (predictable URLs) or `secure` (signed URLs only). */
  access: ChannelAccess;
  /**
   * The channel's signature generation: signed URLs carry the generation they were made in, and only the current
   * one opens the channel. Revoking its signed URLs moves it on.
   */
  signedGeneration: number;
  /** SRT: the passphrase callers encrypt with (10 to 79 characters; absent: unencrypted SRT only). */
  srtPassphrase?: string;
  /** SRT receiver latency (ms). */
  srtLatencyMs: number;
  /** eCDN: the entry's primary broadcast URL as the partner's service gave it (holds the entry's token). */
  kalturaBroadcastUrl?: string;
}

/** SRT latency a channel starts with (ms): libsrt's 120 ms plus room for one retransmission over a WAN. */
export const DEFAULT_SRT_LATENCY_MS = 200;

export type ChannelAccess = 'open' | 'secure';

export type EventLevel = 'info' | 'warn' | 'error';

export interface ChannelEvent {
  id: number;
  entryId: string;
  /** When it (last) happened. */
  at: number;
  level: EventLevel;
  code: string;
  message: string;
  /** How many times in a row it happened (a refused encoder retrying), since `firstAt`. */
  count: number;
  firstAt: number;
}

/** The same event again within this long is counted on its row instead of adding one. */
export const REPEAT_WINDOW_MS = 10 * 60_000;
/** Events kept per channel (the oldest go). */
export const MAX_EVENTS_PER_CHANNEL = 2000;

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `count` characters of [0-9a-z], uniformly drawn. */
export function randomBase36(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of crypto.randomBytes(count * 2)) {
      if (byte < 252 && out.length < count) out += ID_ALPHABET[byte % 36];
    }
  }
  return out;
}

/** A new entry id: `0_` and 8 characters of [0-9a-z], as Kaltura's. */
export function newEntryId(): string {
  return `0_${randomBase36(8)}`;
}

interface ChannelRow {
  entry_id: string;
  partner_id: number;
  name: string;
  token: string;
  created_at: number;
  accepting: number;
  access: ChannelAccess;
  signed_generation: number;
  srt_passphrase: string | null;
  srt_latency: number;
  kaltura_broadcast_url: string | null;
}

/** A new SRT passphrase: 24 characters of base 36 (SRT takes 10 to 79). */
function newSrtPassphrase(): string {
  return randomBase36(24);
}

export interface ChannelStoreEvents {
  /** A channel was created, renamed, changed access or accepting, or deleted. */
  changed: [entryId: string];
  /** A channel event was recorded. */
  event: [ChannelEvent];
}

export class ChannelStore extends EventEmitter<ChannelStoreEvents> {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    super();
  }

  /** Prepared once: the origin asks for a channel's access on every request. */
  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  create(name: string, partnerId: number, now = Date.now()): ChannelRecord {
    const insert = this.stmt(
      'INSERT INTO channels (entry_id, partner_id, name, token, created_at, srt_passphrase) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (;;) {
      const rec: ChannelRecord = {
        entryId: newEntryId(),
        partnerId,
        name,
        token: randomBase36(16),
        createdAt: now,
        accepting: true,
        access: 'open',
        signedGeneration: 0,
        srtPassphrase: newSrtPassphrase(),
        srtLatencyMs: DEFAULT_SRT_LATENCY_MS,
      };
      try {
        insert.run(rec.entryId, rec.partnerId, rec.name, rec.token, rec.createdAt, rec.srtPassphrase);
        this.emit('changed', rec.entryId);
        return rec;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      }
    }
  }

  /**
   * eCDN mode: the partner's entry as a local channel record (its name, and the token that authenticated),
   * so the dashboard lists it and its events have a home. `srtPassphrase`: the entry's `srtPass` as the
   * partner's service gave it (null: the entry has none; undefined: not known, keep what is recorded). It is
   * the entry's, never made here.
   */
  upsertEntry(
    entryId: string,
    partnerId: number,
    name: string | undefined,
    token: string | undefined,
    now = Date.now(),
    srtPassphrase?: string | null,
  ): ChannelRecord {
    const knownSrt = srtPassphrase !== undefined ? 1 : 0;
    this.stmt(
      `INSERT INTO channels (entry_id, partner_id, name, token, created_at, srt_passphrase) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (entry_id) DO UPDATE SET name = COALESCE(?, name), token = COALESCE(?, token),
           srt_passphrase = CASE WHEN ? THEN ? ELSE srt_passphrase END`,
    ).run(
      entryId,
      partnerId,
      name ?? entryId,
      token ?? '',
      now,
      srtPassphrase ?? null,
      name ?? null,
      token ?? null,
      knownSrt,
      srtPassphrase ?? null,
    );
    this.emit('changed', entryId);
    return this.get(entryId) as ChannelRecord;
  }

  get(entryId: string): ChannelRecord | undefined {
    const row = this.stmt('SELECT * FROM channels WHERE entry_id = ?').get(entryId) as ChannelRow | undefined;
    return row && toRecord(row);
  }

  list(): ChannelRecord[] {
    return (this.stmt('SELECT * FROM channels ORDER BY created_at, entry_id').all() as ChannelRow[]).map(
      toRecord,
    );
  }

  update(entryId: string, change: { name?: string; access?: ChannelAccess; srtLatencyMs?: number }): void {
    if (change.name !== undefined)
      this.stmt('UPDATE channels SET name = ? WHERE entry_id = ?').run(change.name, entryId);
    if (change.access !== undefined)
      this.stmt('UPDATE channels SET access = ? WHERE entry_id = ?').run(change.access, entryId);
    this.emit('changed', entryId);
  }

  /** SRT settings: the receiver latency, and/or a new passphrase (the old one stops working for new callers). */
  updateSrt(entryId: string, change: { latencyMs?: number; rotatePassphrase?: boolean }): void {
    if (change.latencyMs !== undefined)
      this.stmt('UPDATE channels SET srt_latency = ? WHERE entry_id = ?').run(change.latencyMs, entryId);
    if (change.rotatePassphrase)
      this.stmt('UPDATE channels SET srt_passphrase = ? WHERE entry_id = ?').run(newSrtPassphrase(), entryId);
    this.emit('changed', entryId);
  }

  /** eCDN: the entry's primary broadcast URL, as the partner's service last gave it. */
  setKalturaBroadcastUrl(entryId: string, url: string): void {
    const r = this.stmt(
      'UPDATE channels SET kaltura_broadcast_url = ? WHERE entry_id = ? AND kaltura_broadcast_url IS NOT ?',
    ).run(url, entryId, url);
    if (r.changes > 0) this.emit('changed', entryId);
  }

  /** A new stream token (the old one stops working for new publishes); the new record. */
  rotateToken(entryId: string): ChannelRecord | undefined {
    this.stmt('UPDATE channels SET token = ? WHERE entry_id = ?').run(randomBase36(16), entryId);
    this.emit('changed', entryId);
    return this.get(entryId);
  }

  /** Every signed URL handed out for the channel stops working (its generation moves on); the new record. */
  revokeSignedUrls(entryId: string): ChannelRecord | undefined {
    this.stmt('UPDATE channels SET signed_generation = signed_generation + 1 WHERE entry_id = ?').run(
      entryId,
    );
    this.emit('changed', entryId);
    return this.get(entryId);
  }

  setAccepting(entryId: string, accepting: boolean): void {
    this.stmt('UPDATE channels SET accepting = ? WHERE entry_id = ?').run(accepting ? 1 : 0, entryId);
    this.emit('changed', entryId);
  }

  delete(entryId: string): boolean {
    const deleted = this.db.transaction(() => {
      this.stmt('DELETE FROM events WHERE entry_id = ?').run(entryId);
      return this.stmt('DELETE FROM channels WHERE entry_id = ?').run(entryId).changes > 0;
    })();
    if (deleted) this.emit('changed', entryId);
    return deleted;
  }

  /**
   * Adds an event, or counts a repeat: the same level, code and message as the channel's latest event, within
   * {@link REPEAT_WINDOW_MS}, updates that row (count, last time) and is emitted with its id. A channel keeps at most
   * {@link MAX_EVENTS_PER_CHANNEL} rows, so an encoder retrying for days (or a stranger) cannot fill the disk.
   */
  addEvent(entryId: string, level: EventLevel, code: string, message: string, at = Date.now()): ChannelEvent {
    const last = this.stmt(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE entry_id = ? ORDER BY id DESC LIMIT 1`,
    ).get(entryId) as EventRow | undefined;
    if (
      last &&
      last.level === level &&
      last.code === code &&
      last.message === message &&
      at - last.at <= REPEAT_WINDOW_MS
    ) {
      this.stmt('UPDATE events SET count = count + 1, at = ? WHERE id = ?').run(at, last.id);
      const event = toEvent({ ...last, at, count: last.count + 1 });
      this.emit('event', event);
      return event;
    }
    const r = this.stmt(
      'INSERT INTO events (entry_id, at, level, code, message, count, first_at) VALUES (?, ?, ?, ?, ?, 1, ?)',
    ).run(entryId, at, level, code, message, at);
    const id = Number(r.lastInsertRowid);
    // Keep the newest rows only (both lookups ride on the (entry_id, id) index).
    this.stmt(
      `DELETE FROM events WHERE entry_id = ? AND id < (
         SELECT id FROM events WHERE entry_id = ? ORDER BY id DESC LIMIT 1 OFFSET ${MAX_EVENTS_PER_CHANNEL - 1})`,
    ).run(entryId, entryId);
    const event: ChannelEvent = { id, entryId, at, level, code, message, count: 1, firstAt: at };
    this.emit('event', event);
    return event;
  }

  events(entryId: string, limit = 100): ChannelEvent[] {
    const rows = this.stmt(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE entry_id = ? ORDER BY id DESC LIMIT ?`,
    ).all(entryId, limit) as EventRow[];
    return rows.map(toEvent).reverse();
  }
}

const EVENT_COLUMNS = 'id, entry_id AS entryId, at, level, code, message, count, first_at AS firstAt';

/** A row as read: `first_at` is null on rows written before repeats were counted. */
type EventRow = Omit<ChannelEvent, 'firstAt'> & { firstAt: number | null };

function toEvent(r: EventRow): ChannelEvent {
  return { ...r, firstAt: r.firstAt ?? r.at };
}

function toRecord(r: ChannelRow): ChannelRecord {
  return {
    entryId: r.entry_id,
    partnerId: r.partner_id,
    name: r.name,
    token: r.token,
    createdAt: r.created_at,
    accepting: r.accepting === 1,
    access: r.access,
    signedGeneration: r.signed_generation,
    ...(r.srt_passphrase ? { srtPassphrase: r.srt_passphrase } : {}),
    srtLatencyMs: r.srt_latency,
    ...(r.kaltura_broadcast_url ? { kalturaBroadcastUrl: r.kaltura_broadcast_url } : {}),
  };
}
