import type { SettingsInput } from '@contract';
import { useAction, useBridge } from '../../api/hooks.js';
import { writeToken } from '../../api/token.js';

/**
 * settings.update, then: a browser keeps using the new admin token, and a restart is handed to the App
 * (which shows progress and reconnects).
 */
export function useSaveSettings(onRestarting: (adminUrl: string | null) => void) {
  const bridge = useBridge();
  const save = useAction('settings.update');
  const run = async (input: SettingsInput) => {
    const r = await save.run(input);
    if (!r) return undefined;
    if (input.adminToken && bridge.transport === 'http') writeToken(input.adminToken);
    if (r.restarting) onRestarting(null);
    return r;
  };
  return { ...save, run };
}
