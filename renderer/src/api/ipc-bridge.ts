/** The Electron window's transport: `window.ecdn`, exposed by the preload over IPC. Always connected. */
import type { ControlBridge } from '@contract';
import type { DashboardBridge } from './dashboard-bridge.js';

export function wrapIpcBridge(ipc: ControlBridge): DashboardBridge {
  return {
    transport: 'ipc',
    invoke: (operation, request) => ipc.invoke(operation, request),
    onEvent: (listener) => ipc.onEvent(listener),
    connection: () => 'open',
    onConnection: () => () => undefined,
    onUnauthorized: () => () => undefined,
    reconnect: () => undefined,
  };
}
