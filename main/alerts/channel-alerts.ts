/**
 * Which channel events are alerts, and their start and end: the content monitor's conditions (BLACK, FROZEN,
 * SILENCE), the primary ingest lost and back, the backup taking over and giving back, a transcoder that died or
 * runs slower than real time.
 * One table, read by the webhooks; everything else a channel records is not an alert.
 */
import type { AlertNotification } from './webhooks.js';

export interface AlertSourceEvent {
  entryId: string;
  at: number;
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
}

const CONTENT = /^(BLACK|FROZEN|SILENCE)_(STARTED|ENDED)$/;

/** The alert an event starts or ends, or undefined. */
export function alertOf(e: AlertSourceEvent): AlertNotification | undefined {
  const base = { entryId: e.entryId, message: e.message, at: new Date(e.at).toISOString() };
  const content = CONTENT.exec(e.code);
  if (content) {
    const start = content[2] === 'STARTED';
    return {
      ...base,
      condition: content[1] as string,
      phase: start ? 'start' : 'end',
      level: start ? e.level : 'info',
    };
  }
  const primary = /^primary ingest /.test(e.message);
  switch (e.code) {
    case 'PUBLISH_STOPPED':
      return primary ? { ...base, condition: 'INGEST_LOST', phase: 'start', level: 'error' } : undefined;
    case 'PUBLISH_STARTED':
      return primary ? { ...base, condition: 'INGEST_LOST', phase: 'end', level: 'info' } : undefined;
    case 'INGEST_SWITCH':
      return /backup/.test(e.message)
        ? { ...base, condition: 'BACKUP_TOOK_OVER', phase: 'start', level: 'warn' }
        : { ...base, condition: 'BACKUP_TOOK_OVER', phase: 'end', level: 'info' };
    case 'TRANSCODER_RESTART':
      return { ...base, condition: 'TRANSCODER_FAILED', phase: 'start', level: 'warn' };
    case 'TRANSCODE_STARTED':
      return { ...base, condition: 'TRANSCODER_FAILED', phase: 'end', level: 'info' };
    case 'TRANSCODER_SLOW':
      return { ...base, condition: 'TRANSCODER_SLOW', phase: 'start', level: 'warn' };
    case 'TRANSCODER_CAUGHT_UP':
      return { ...base, condition: 'TRANSCODER_SLOW', phase: 'end', level: 'info' };
    default:
      return undefined;
  }
}

/** After staff stop or restart a channel, its encoder's end is theirs, not a lost ingest, for this long. */
const STAFF_STOP_MS = 15_000;

/**
 * Keeps only what changes an alert's state: an end without a start (a first publish is no "ingest back") and a
 * start of what is already started are dropped; so is the "ingest lost" of a channel staff just stopped or
 * restarted.
 */
export class AlertStates {
  private readonly active = new Set<string>();
  private readonly stoppedByStaff = new Map<string, number>();

  /** The alert an event starts or ends, if it changes anything (see {@link alertOf}). */
  fromEvent(e: AlertSourceEvent): AlertNotification | undefined {
    if (e.code === 'CHANNEL_STOPPING' || e.code === 'RESTART_STEP') this.stoppedByStaff.set(e.entryId, e.at);
    const n = alertOf(e);
    if (!n) return undefined;
    const staff = this.stoppedByStaff.get(e.entryId);
    if (n.condition === 'INGEST_LOST' && staff !== undefined && e.at - staff < STAFF_STOP_MS)
      return undefined;
    return this.accept(n) ? n : undefined;
  }

  accept(n: AlertNotification): boolean {
    const key = `${n.condition} ${n.entryId ?? ''}`;
    if (n.phase === 'start') {
      if (this.active.has(key)) return false;
      this.active.add(key);
      return true;
    }
    return this.active.delete(key);
  }
}
