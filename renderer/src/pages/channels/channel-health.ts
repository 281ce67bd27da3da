/** A channel's health at a glance, for the channel list's dot and row marks (pure: tested in the dashboard). */
import type { ChannelView } from '@contract';

export type ChannelHealth = 'off' | 'ok' | 'warn' | 'bad';

const LIVE = new Set<ChannelView['state']>(['starting', 'started']);

/** Blocks still running at `now`: publishes refused without asking after a failed one. */
export function runningBlocks(c: Pick<ChannelView, 'blocks'>, now: number): ChannelView['blocks'] {
  return c.blocks.filter((b) => Date.parse(b.until) > now);
}

/**
 * off: not live; bad: live but nothing feeds it, or an error alert (black picture); warn: ingest warnings, a
 * warning alert, the backup feeding; ok: the primary feeds, nothing raised.
 */
export function channelHealth(c: Pick<ChannelView, 'state' | 'ingests' | 'alerts'>): ChannelHealth {
  if (!LIVE.has(c.state)) return 'off';
  const feeding = c.ingests.find((i) => i.feeding);
  if (!feeding || c.alerts.some((a) => a.level === 'error')) return 'bad';
  if (feeding.role === 'backup' || c.alerts.length > 0 || c.ingests.some((i) => i.warnings.length > 0))
    return 'warn';
  return 'ok';
}

export const HEALTH_WORDS: Record<ChannelHealth, string> = {
  off: 'not live',
  ok: 'healthy',
  warn: 'needs a look',
  bad: 'problem',
};

/** When the ingest feeding the origin started (uptime = now − this), or null when nothing feeds it. */
export function liveSince(c: Pick<ChannelView, 'state' | 'ingests'>): number | null {
  if (!LIVE.has(c.state)) return null;
  const times = c.ingests.map((i) => Date.parse(i.startedAt)).filter(Number.isFinite);
  return times.length ? Math.min(...times) : null;
}

/** The portal's watch page of a channel ('' before the origin's address is known). */
export function watchUrl(origin: string | undefined, entryId: string, signedQuery = ''): string {
  if (!origin) return '';
  return `${origin.replace(/\/$/, '')}/watch/${encodeURIComponent(entryId)}${signedQuery}`;
}
