/**
 * The preload: exposes exactly the control API contract (`ControlBridge`) to the renderer as `window.ecdn`,
 * and nothing else of Node or Electron. CommonJS (.cts): sandboxed preloads cannot be ES modules and can
 * require only 'electron' (the contract is imported for its types only, erased at compile time).
 * The main process checks every call's sender (main/electron/ipc-bridge.ts).
 */
import electron = require('electron');
import type { ControlBridge, ControlEvent, IPC_CHANNELS } from '../main/contract/contract.js';

const { contextBridge, ipcRenderer } = electron;

// The contract's IPC_CHANNELS, written out (a sandboxed preload can require nothing but electron) and checked
// against it by the compiler.
const CONTROL_CHANNEL: (typeof IPC_CHANNELS)['control'] = 'ecdn:control';
const EVENT_CHANNEL: (typeof IPC_CHANNELS)['event'] = 'ecdn:event';

const bridge: ControlBridge = {
  /** Calls one operation; resolves with its `ControlResult` (errors are values, never rejections of the call). */
  invoke: (operation, request) => ipcRenderer.invoke(CONTROL_CHANNEL, operation, request),
  /** Subscribes to control events; the returned function unsubscribes. The IPC event object never reaches the page. */
  onEvent: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const forward = (_event: unknown, controlEvent: ControlEvent) => listener(controlEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('ecdn', bridge);
