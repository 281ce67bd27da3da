/**
 * The preload, run as Electron runs a sandboxed preload: compiled to CommonJS and called with `require`
 * (which knows only 'electron'), `process`, `exports` and `module`.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import type { ControlBridge, ControlEvent } from '../../main/contract/contract.js';

const SOURCE = path.resolve(import.meta.dirname, '../../preload/preload.cts');

function loadPreload() {
  const { outputText } = ts.transpileModule(fs.readFileSync(SOURCE, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: 'preload.cts',
  });
  const exposed = new Map<string, unknown>();
  const ipcListeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const ipcRenderer = {
    invoke: vi.fn(async (..._args: unknown[]) => ({ ok: true, value: 'answer' })),
    on: vi.fn((channel: string, l: (...args: unknown[]) => void) => {
      if (!ipcListeners.has(channel)) ipcListeners.set(channel, new Set());
      ipcListeners.get(channel)?.add(l);
    }),
    removeListener: vi.fn((channel: string, l: (...args: unknown[]) => void) => {
      ipcListeners.get(channel)?.delete(l);
    }),
  };
  const contextBridge = { exposeInMainWorld: vi.fn((key: string, api: unknown) => exposed.set(key, api)) };
  const required: string[] = [];
  const preloadRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return { contextBridge, ipcRenderer };
    throw new Error(`module not found: ${name}`);
  };
  const exports = {};
  const fn = vm.runInThisContext(`(function (require, process, exports, module) {${outputText}\n})`) as (
    ...args: unknown[]
  ) => void;
  fn(preloadRequire, {}, exports, { exports });
  const emit = (channel: string, ...args: unknown[]) => ipcListeners.get(channel)?.forEach((l) => l(...args));
  return { exposed, ipcRenderer, contextBridge, required, emit, ipcListeners };
}

describe('preload', () => {
  it('requires only electron and exposes exactly window.ecdn = { invoke, onEvent }', () => {
    const p = loadPreload();
    expect(p.required).toEqual(['electron']);
    expect(p.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect([...p.exposed.keys()]).toEqual(['ecdn']);
    const api = p.exposed.get('ecdn') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(['invoke', 'onEvent']);
    expect(typeof api.invoke).toBe('function');
    expect(typeof api.onEvent).toBe('function');
  });

  it('invoke sends (operation, request) on ecdn:control and resolves with the ControlResult', async () => {
    const p = loadPreload();
    const api = p.exposed.get('ecdn') as ControlBridge;
    await expect(api.invoke('channels.get', { entryId: '0_a' })).resolves.toEqual({
      ok: true,
      value: 'answer',
    });
    expect(p.ipcRenderer.invoke).toHaveBeenCalledWith('ecdn:control', 'channels.get', { entryId: '0_a' });
  });

  it('onEvent passes only the control event (never the IPC event) and unsubscribes', () => {
    const p = loadPreload();
    const api = p.exposed.get('ecdn') as ControlBridge;
    const seen: unknown[][] = [];
    const unsubscribe = api.onEvent((...args: unknown[]) => seen.push(args));
    const event: ControlEvent = { type: 'channel.state', entryId: '0_a', state: 'started' };
    p.emit('ecdn:event', { sender: 'ipc internals', ports: [] }, event);
    expect(seen).toEqual([[event]]);
    unsubscribe();
    expect(p.ipcListeners.get('ecdn:event')?.size).toBe(0);
    p.emit('ecdn:event', {}, event);
    expect(seen).toHaveLength(1);
  });

  it('refuses a listener that is not a function', () => {
    const api = loadPreload().exposed.get('ecdn') as ControlBridge;
    expect(() => api.onEvent('nope' as never)).toThrow(TypeError);
  });
});
