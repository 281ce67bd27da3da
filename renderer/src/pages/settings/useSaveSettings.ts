import type { SettingsApply, SettingsInput } from '@contract';
import { useAction, useBridge } from '../../api/hooks.js';
import { writeToken } from '../../api/token.js';

/**
 * settings.update, then: a browser keeps using the new admin token (the session survives a token change made
 * here), and a restart is handed to the App (which shows progress and reconnects). `apply` says what to do when
 * the change needs a restart while channels are live (by default the core refuses with CHANNELS_LIVE).
 */
export function useSaveSettings(onRestarting: (adminUrl: string | null) => void) {
  const bridge = useBridge();
  const save = useAction('settings.update');
  const run = async (input: SettingsInput, apply?: SettingsApply) => {
    const r = await save.run(apply ? { ...input, apply } : input);
    if (!r) return undefined;
    if (input.adminToken && bridge.transport === 'http') writeToken(input.adminToken);
    if (r.restarting) onRestarting(null);
    return r;
  };
  /** The core refused because channels are live: its message names them and their viewers. */
  const liveRefusal = save.error?.code === 'CHANNELS_LIVE' ? save.error.message : null;
  return { ...save, run, liveRefusal };
}
