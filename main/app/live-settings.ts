/**
 * Settings the running core takes without a restart (the contract's LIVE_SETTING_KEYS): a new admin token
 * (checked on the next request; sessions with the old one end, the token file follows) and the alert webhook
 * URLs. And what a restart would cut now: the live channels and their viewers.
 */
import type { AdminToken } from './admin-token.js';
import type { SettingKey } from '../contract/contract.js';
import { webhookUrls, type ApplianceOptions } from './options.js';

export interface LiveSettingsTargets {
  adminToken: AdminToken;
  webhooks: { reconfigure(urls: readonly string[]): void };
  followTokenFile: (token: string) => void;
}

/** Applies `keys` of `next` to the running core. */
export function applyLiveSettings(
  keys: readonly SettingKey[],
  next: ApplianceOptions,
  t: LiveSettingsTargets,
): void {
  for (const k of keys) {
    if (k === 'adminToken' && next.adminToken) {
      t.adminToken.token = next.adminToken;
      t.adminToken.generated = false;
      delete t.adminToken.keptIn;
      t.followTokenFile(next.adminToken);
    } else if (k === 'webhookUrl') {
      t.webhooks.reconfigure(webhookUrls(next.webhookUrl));
    } else if (k !== 'adminToken') {
      throw new Error(`${k} cannot be applied without a restart`);
    }
  }
}

/** The channels live now (an encoder publishing), with their viewers. */
export interface LiveNow {
  channels: Array<{ entryId: string; name: string; viewers: number }>;
  viewers: number;
}

export function liveNow(
  channels: ReadonlyArray<{ entryId: string; name: string }>,
  live: { isLive(entryId: string): boolean },
  viewers: (entryId: string) => number,
): LiveNow {
  const out = channels
    .filter((c) => live.isLive(c.entryId))
    .map((c) => ({ entryId: c.entryId, name: c.name, viewers: viewers(c.entryId) }));
  return { channels: out, viewers: out.reduce((n, c) => n + c.viewers, 0) };
}
