import { describe, expect, it, vi } from 'vitest';
import type { ControlEvent, ControlResult } from '../../main/contract/contract.js';
import type { ControlDispatcher } from '../../main/api/control-dispatcher.js';
import {
  CONTROL_CHANNEL,
  EVENT_CHANNEL,
  installControlBridge,
  senderProblem,
  type BridgeWindow,
  type FrameLike,
  type InvokeEventLike,
} from '../../main/electron/ipc-bridge.js';
import type { Log } from '../../main/electron/types.js';

const RENDERER_URL = 'file:///opt/eCDN%20Appliance/resources/app.asar/renderer/dist/index.html';

function fakeLog() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

function setup(o: { dispatch?: ControlDispatcher['dispatch']; noWindow?: boolean } = {}) {
  const mainFrame: FrameLike = { url: RENDERER_URL, parent: null, processId: 4, routingId: 1 };
  const win = {
    destroyed: false,
    isDestroyed() {
      return this.destroyed;
    },
    webContents: { id: 7, mainFrame, isDestroyed: () => false, send: vi.fn() },
  };
  const handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain = {
    handle: vi.fn((channel: string, fn: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>) => {
      handlers.set(channel, fn);
    }),
    removeHandler: vi.fn((channel: string) => {
      handlers.delete(channel);
    }),
  };
  const listeners = new Set<(e: ControlEvent) => void>();
  const dispatch = vi.fn(
    o.dispatch ??
      (async (operation: string, request: unknown) => ({ ok: true, value: { operation, request } })),
  );
  const control = {
    dispatch,
    onEvent: (l: (e: ControlEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as ControlDispatcher;
  const log = fakeLog();
  const dispose = installControlBridge({
    ipcMain: ipcMain as never,
    control,
    window: () => (o.noWindow ? undefined : (win as BridgeWindow)),
    rendererUrl: RENDERER_URL,
    log: log as unknown as Log,
  });
  const call = (event: InvokeEventLike, operation: unknown, request?: unknown) => {
    const h = handlers.get(CONTROL_CHANNEL);
    if (!h) throw new Error('no handler');
    return h(event, operation, request) as Promise<ControlResult<unknown>>;
  };
  const fromMainFrame: InvokeEventLike = { sender: { id: 7 }, senderFrame: { ...mainFrame } };
  return { win, mainFrame, ipcMain, handlers, listeners, dispatch, log, dispose, call, fromMainFrame };
}

describe('IPC bridge: sender validation', () => {
  it('dispatches a call from the window’s top frame on the renderer file', async () => {
    const s = setup();
    const result = await s.call(s.fromMainFrame, 'channels.get', { entryId: '0_abc' });
    expect(result).toEqual({ ok: true, value: { operation: 'channels.get', request: { entryId: '0_abc' } } });
    expect(s.dispatch).toHaveBeenCalledWith('channels.get', { entryId: '0_abc' });
  });

  it('accepts the renderer URL with a hash route or a query', async () => {
    const s = setup();
    const event = {
      sender: { id: 7 },
      senderFrame: { ...s.mainFrame, url: `${RENDERER_URL}?x=1#/channels/0_a` },
    };
    expect((await s.call(event, 'status.get')).ok).toBe(true);
  });

  it('compares Windows file URLs whatever the drive letter’s case', () => {
    const url = 'file:///C:/Program%20Files/eCDN%20Appliance/resources/app.asar/renderer/dist/index.html';
    const frame = { url: url.replace('C:', 'c:'), parent: null, processId: 1, routingId: 1 };
    const win = {
      isDestroyed: () => false,
      webContents: { id: 1, mainFrame: frame, isDestroyed: () => false, send() {} },
    };
    expect(senderProblem({ sender: { id: 1 }, senderFrame: frame }, win, url)).toBeUndefined();
    expect(
      senderProblem({ sender: { id: 1 }, senderFrame: { ...frame, url: 'file:///D:/index.html' } }, win, url),
    ).toBe('the frame is not the dashboard');
  });

  const forbidden: Array<[string, (s: ReturnType<typeof setup>) => InvokeEventLike]> = [
    [
      'a foreign frame URL',
      (s) => ({ sender: { id: 7 }, senderFrame: { ...s.mainFrame, url: 'https://evil.example/index.html' } }),
    ],
    [
      'another local file',
      (s) => ({
        sender: { id: 7 },
        senderFrame: { ...s.mainFrame, url: 'file:///tmp/renderer/dist/index.html' },
      }),
    ],
    [
      'a subframe (even on the renderer URL)',
      (s) => ({
        sender: { id: 7 },
        senderFrame: { ...s.mainFrame, parent: s.mainFrame as never, routingId: 2 },
      }),
    ],
    ['a different webContents', (s) => ({ sender: { id: 8 }, senderFrame: { ...s.mainFrame } })],
    ['a frame that is gone', () => ({ sender: { id: 7 }, senderFrame: null })],
    [
      'a top frame of another process',
      (s) => ({ sender: { id: 7 }, senderFrame: { ...s.mainFrame, processId: 5 } }),
    ],
  ];
  for (const [what, event] of forbidden) {
    it(`refuses ${what} with FORBIDDEN, logged, not dispatched`, async () => {
      const s = setup();
      const result = await s.call(event(s), 'channels.list');
      expect(result).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', status: 403 } });
      expect(s.dispatch).not.toHaveBeenCalled();
      expect(s.log.warn).toHaveBeenCalledTimes(1);
      expect(s.log.warn.mock.calls[0]?.[1]).toMatch(/unexpected sender/);
    });
  }

  it('refuses every call when there is no window', async () => {
    const s = setup({ noWindow: true });
    expect(await s.call(s.fromMainFrame, 'channels.list')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
  });
});

describe('IPC bridge: routing', () => {
  it('answers an unknown operation with a BAD_REQUEST value', async () => {
    const s = setup();
    expect(await s.call(s.fromMainFrame, 'channels.nuke')).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', status: 400, message: 'unknown operation "channels.nuke"' },
    });
    expect(await s.call(s.fromMainFrame, 42)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await s.call(s.fromMainFrame, '__proto__')).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    expect(s.dispatch).not.toHaveBeenCalled();
  });

  it('passes the dispatcher’s error values through', async () => {
    const failure = {
      ok: false,
      error: { code: 'CHANNEL_NOT_FOUND', message: 'no channel 0_x', status: 404 },
    };
    const s = setup({ dispatch: (async () => failure) as never });
    expect(await s.call(s.fromMainFrame, 'channels.get', { entryId: '0_x' })).toEqual(failure);
  });

  it('turns a thrown error into an INTERNAL value (the call never rejects)', async () => {
    const s = setup({
      dispatch: (async () => {
        throw new Error('database is locked');
      }) as never,
    });
    const result = await s.call(s.fromMainFrame, 'channels.list');
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL', status: 500 } });
    expect(s.log.error).toHaveBeenCalled();
  });

  it('forwards every control event to the window on ecdn:event', () => {
    const s = setup();
    const events: ControlEvent[] = [
      { type: 'channel.state', entryId: '0_a', state: 'started' },
      { type: 'channels.changed', entryId: '0_b' },
      { type: 'appliance.restarting', adminUrl: 'http://127.0.0.1:8081/' },
    ];
    for (const e of events) for (const l of s.listeners) l(e);
    expect(s.win.webContents.send.mock.calls).toEqual(events.map((e) => [EVENT_CHANNEL, e]));
  });

  it('does not send to a destroyed window', () => {
    const s = setup();
    s.win.destroyed = true;
    for (const l of s.listeners) l({ type: 'channels.changed', entryId: '0_a' });
    expect(s.win.webContents.send).not.toHaveBeenCalled();
  });

  it('does not send when there is no window', () => {
    const s = setup({ noWindow: true });
    for (const l of s.listeners) l({ type: 'channels.changed', entryId: '0_a' });
    expect(s.win.webContents.send).not.toHaveBeenCalled();
  });

  it('dispose removes the handler and the event subscription', () => {
    const s = setup();
    expect(s.listeners.size).toBe(1);
    s.dispose();
    expect(s.ipcMain.removeHandler).toHaveBeenCalledWith(CONTROL_CHANNEL);
    expect(s.handlers.size).toBe(0);
    expect(s.listeners.size).toBe(0);
  });
});
