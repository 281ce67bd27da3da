/**
 * The content conditions of one channel (black picture, frozen picture, silence) as a state machine over the
 * detectors' edges: a condition is raised once its detector has said so for its minimum duration, and cleared
 * when the detector says it ended (or the channel stops). Time comes in as arguments, so tests need no clock.
 *
 * A black picture is also a still one: while the picture is black, FROZEN is not raised (BLACK says more).
 */
import type { ContentKind } from './content-signals.js';

export type ContentCondition = 'BLACK' | 'FROZEN' | 'SILENCE';

export interface ConditionRule {
  condition: ContentCondition;
  level: 'warn' | 'error';
  /** How long (ms) the detector must hold before the condition is raised. */
  minMs: number;
  /** What staff read, e.g. "black picture". */
  label: string;
}

/** The defaults (README, "On-air confidence"): thresholds are the detectors' (see content-monitor.ts). */
export const DEFAULT_RULES: Readonly<Record<ContentKind, ConditionRule>> = {
  black: { condition: 'BLACK', level: 'error', minMs: 2000, label: 'black picture' },
  freeze: { condition: 'FROZEN', level: 'warn', minMs: 5000, label: 'frozen picture' },
  silence: { condition: 'SILENCE', level: 'warn', minMs: 5000, label: 'silence' },
};

export interface ActiveCondition {
  condition: ContentCondition;
  level: 'warn' | 'error';
  /** When the detector first said so (ms since the epoch). */
  since: number;
  label: string;
}

export type ConditionChange =
  | ({ type: 'raised' } & ActiveCondition)
  | ({ type: 'cleared'; endedAt: number; reason: 'ended' | 'stopped' | 'black' } & ActiveCondition);

interface Pending {
  /** When the detector said the condition began. */
  since: number;
  raised: boolean;
}

export class ContentConditions {
  private readonly pending = new Map<ContentKind, Pending>();

  constructor(
    private readonly onChange: (c: ConditionChange) => void,
    private readonly rules: Readonly<Record<ContentKind, ConditionRule>> = DEFAULT_RULES,
  ) {}

  /** A detector's edge: `kind` began (`active`) or ended at `at` (ms); `now` for raising at once when due. */
  signal(kind: ContentKind, active: boolean, at: number, now: number = at): void {
    const p = this.pending.get(kind);
    if (active) {
      if (!p) this.pending.set(kind, { since: at, raised: false });
      if (kind === 'black') this.clear('freeze', at, 'black');
    } else if (p) {
      this.pending.delete(kind);
      if (p.raised) this.emitCleared(kind, p, at, 'ended');
      // A still picture counts as frozen from when it stopped being black.
      const freeze = this.pending.get('freeze');
      if (kind === 'black' && freeze && !freeze.raised) freeze.since = Math.max(freeze.since, at);
    }
    this.tick(now);
  }

  /** Raises what has held long enough by `now` (ms). */
  tick(now: number): void {
    for (const [kind, p] of this.pending) {
      if (p.raised || now - p.since < this.rules[kind].minMs) continue;
      if (kind === 'freeze' && this.pending.has('black')) continue;
      p.raised = true;
      this.onChange({ type: 'raised', ...this.view(kind, p) });
    }
  }

  /** The channel stopped (or its monitor ended): every raised condition ends at `at`, pending ones are dropped. */
  stop(at: number): void {
    for (const [kind, p] of [...this.pending]) {
      this.pending.delete(kind);
      if (p.raised) this.emitCleared(kind, p, at, 'stopped');
    }
  }

  /** The raised conditions. */
  active(): ActiveCondition[] {
    return [...this.pending].filter(([, p]) => p.raised).map(([kind, p]) => this.view(kind, p));
  }

  /** Whether the detector currently says `kind` (raised or not yet). */
  detecting(kind: ContentKind): boolean {
    return this.pending.has(kind);
  }

  /** A raised FROZEN ends when the picture goes black (BLACK is raised instead). */
  private clear(kind: ContentKind, at: number, reason: 'black'): void {
    const p = this.pending.get(kind);
    if (!p?.raised) return;
    this.emitCleared(kind, { ...p }, at, reason);
    // The freeze detector still holds: it may raise again once the picture is no longer black.
    p.raised = false;
    p.since = at;
  }

  private emitCleared(
    kind: ContentKind,
    p: Pending,
    at: number,
    reason: 'ended' | 'stopped' | 'black',
  ): void {
    this.onChange({ type: 'cleared', ...this.view(kind, p), endedAt: at, reason });
  }

  private view(kind: ContentKind, p: Pending): ActiveCondition {
    const r = this.rules[kind];
    return { condition: r.condition, level: r.level, since: p.since, label: r.label };
  }
}

/** The channel event of a change: `BLACK_STARTED` at the condition's level, `BLACK_ENDED` as info. */
export function changeEvent(c: ConditionChange): {
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
} {
  const since = new Date(c.since).toISOString().slice(11, 19);
  if (c.type === 'raised') {
    return {
      level: c.level,
      code: `${c.condition}_STARTED`,
      message: `${capital(c.label)} since ${since} UTC`,
    };
  }
  const lasted = Math.max(0, Math.round((c.endedAt - c.since) / 1000));
  const why =
    c.reason === 'ended'
      ? ''
      : c.reason === 'black'
        ? ' (the picture went black)'
        : ' (no longer watched: the channel stopped or its ingest changed)';
  return {
    level: 'info',
    code: `${c.condition}_ENDED`,
    message: `${capital(c.label)} ended after ${lasted} s${why}`,
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
