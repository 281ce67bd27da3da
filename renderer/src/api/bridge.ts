/** Chooses the transport: the preload's `window.ecdn` in the Electron window, HTTP + WebSocket in a browser. */
import type { ControlBridge } from '@contract';
import type { DashboardBridge } from './dashboard-bridge.js';
import { createHttpBridge } from './http-bridge.js';
import { wrapIpcBridge } from './ipc-bridge.js';
import { currentToken } from './token.js';

declare global {
  interface Window {
    ecdn?: ControlBridge;
  }
}

export function createBridge(): DashboardBridge {
  const ipc = window.ecdn;
  if (ipc && typeof ipc.invoke === 'function') return wrapIpcBridge(ipc);
  return createHttpBridge({ getToken: currentToken });
}
