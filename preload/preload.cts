/**
 * The preload: exposes exactly the control API contract to the renderer through contextBridge.
 * Nothing else of Node or Electron reaches the page. CommonJS (.cts): sandboxed preloads cannot be ES modules. (Issue 6 grows this to the full contract.)
 */
import electron = require('electron');

const { contextBridge, ipcRenderer } = electron;

interface EcdnBridge {
  /** Calls one control API operation; errors come back as `{ error: { code, message } }`. */
  invoke(
    operation: 'channels.list' | 'channels.get' | 'channels.create' | 'channels.delete',
    payload?: unknown,
  ): Promise<unknown>;
}

const bridge: EcdnBridge = {
  invoke: (operation, payload) => ipcRenderer.invoke('ecdn:control', operation, payload),
};

contextBridge.exposeInMainWorld('ecdn', bridge);
