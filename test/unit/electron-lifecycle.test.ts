import { EventEmitter } from 'node:events';
import type { MessageBoxOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { AppLifecycle, quitQuestion } from '../../main/electron/lifecycle.js';
import type { LiveChannel } from '../../main/electron/tray.js';
import type { Log } from '../../main/electron/types.js';

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log;

class FakeWindow extends EventEmitter {
  destroyed = false;
  minimized = false;
  hide = vi.fn();
  show = vi.fn();
  focus = vi.fn();
  restore = vi.fn();
  isDestroyed = () => this.destroyed;
  isMinimized = () => this.minimized;
  /** Emits `close` like Electron and says whether a listener prevented it. */
  close(): boolean {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    return prevented;
  }
}

function setup(
  o: { live?: LiveChannel[]; response?: number; stopCore?: () => Promise<void>; timeout?: number } = {},
) {
  const app = new EventEmitter() as EventEmitter & { exit: ReturnType<typeof vi.fn> };
  app.exit = vi.fn();
  const win = new FakeWindow();
  let live = o.live ?? [];
  const dialog = {
    showMessageBox: vi.fn(async (_options: MessageBoxOptions) => ({
      response: o.response ?? 0,
      checkboxChecked: false,
    })),
  };
  const stopCore = vi.fn(o.stopCore ?? (async () => undefined));
  const createWindow = vi.fn(() => win);
  let current: FakeWindow | undefined = win;
  const lifecycle = new AppLifecycle({
    app: app as never,
    dialog: dialog as never,
    window: () => current,
    createWindow,
    liveChannels: async () => live,
    stopCore,
    log,
    stopTimeoutMs: o.timeout ?? 1000,
  });
  lifecycle.install();
  lifecycle.attachWindow(win);
  /** Emits before-quit like Electron and says whether it was prevented. */
  const beforeQuit = () => {
    let prevented = false;
    app.emit('before-quit', { preventDefault: () => (prevented = true) });
    return prevented;
  };
  return {
    app,
    win,
    dialog,
    stopCore,
    lifecycle,
    beforeQuit,
    createWindow,
    setLive: (l: LiveChannel[]) => (live = l),
    dropWindow: () => (current = undefined),
  };
}

const TWO_LIVE = [
  { entryId: '0_a', name: 'Alpha' },
  { entryId: '0_b', name: 'Beta' },
];
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('close to tray', () => {
  it('hides the window instead of closing it', () => {
    const s = setup();
    expect(s.win.close()).toBe(true);
    expect(s.win.hide).toHaveBeenCalledTimes(1);
  });

  it('keeps the app running when all windows are closed', () => {
    const s = setup();
    expect(s.app.listenerCount('window-all-closed')).toBe(1);
    s.app.emit('window-all-closed');
    expect(s.app.exit).not.toHaveBeenCalled();
  });

  it('a second instance, or activate, shows and focuses the window (restoring it when minimised)', () => {
    const s = setup();
    s.win.minimized = true;
    s.app.emit('second-instance', {}, [], '/');
    expect(s.win.restore).toHaveBeenCalled();
    expect(s.win.show).toHaveBeenCalled();
    expect(s.win.focus).toHaveBeenCalled();
    s.app.emit('activate');
    expect(s.win.show).toHaveBeenCalledTimes(2);
  });

  it('creates the window again when it is gone', () => {
    const s = setup();
    s.dropWindow();
    s.lifecycle.showWindow();
    expect(s.createWindow).toHaveBeenCalledTimes(1);
  });
});

describe('quit', () => {
  it('idle: no question; stops the core, then exits', async () => {
    const s = setup({ live: [] });
    let stopped = false;
    s.stopCore.mockImplementation(async () => {
      await settle();
      stopped = true;
    });
    s.app.exit.mockImplementation(() => expect(stopped).toBe(true));
    expect(s.beforeQuit()).toBe(true);
    await vi.waitFor(() => expect(s.app.exit).toHaveBeenCalledWith(0));
    expect(s.dialog.showMessageBox).not.toHaveBeenCalled();
    expect(s.stopCore).toHaveBeenCalledTimes(1);
  });

  it('live: asks first, Cancel is the default; cancel keeps everything running', async () => {
    const s = setup({ live: TWO_LIVE, response: 0 });
    expect(s.beforeQuit()).toBe(true);
    await vi.waitFor(() => expect(s.dialog.showMessageBox).toHaveBeenCalledTimes(1));
    await settle();
    const question = s.dialog.showMessageBox.mock.calls[0]?.[0] as MessageBoxOptions;
    expect(question.buttons?.[0]).toBe('Cancel');
    expect(question.defaultId).toBe(0);
    expect(question.cancelId).toBe(0);
    expect(question.message).toBe('2 channels are live.');
    expect(question.detail).toContain('Alpha');
    expect(s.stopCore).not.toHaveBeenCalled();
    expect(s.app.exit).not.toHaveBeenCalled();
    // Still running: closing hides again, and quitting asks again.
    expect(s.win.close()).toBe(true);
    s.beforeQuit();
    await vi.waitFor(() => expect(s.dialog.showMessageBox).toHaveBeenCalledTimes(2));
  });

  it('live: confirming stops the core and exits; the window may then close', async () => {
    const s = setup({ live: TWO_LIVE, response: 1 });
    let release!: () => void;
    s.stopCore.mockImplementation(() => new Promise<void>((r) => (release = r)));
    s.beforeQuit();
    await vi.waitFor(() => expect(s.stopCore).toHaveBeenCalledTimes(1));
    expect(s.win.close()).toBe(false);
    expect(s.app.exit).not.toHaveBeenCalled();
    release();
    await vi.waitFor(() => expect(s.app.exit).toHaveBeenCalledWith(0));
  });

  it('asks once while the question is open', async () => {
    const s = setup({ live: TWO_LIVE, response: 0 });
    s.dialog.showMessageBox.mockImplementation(async () => {
      await settle();
      return { response: 0, checkboxChecked: false };
    });
    expect(s.beforeQuit()).toBe(true);
    expect(s.beforeQuit()).toBe(true);
    await settle();
    await settle();
    expect(s.dialog.showMessageBox).toHaveBeenCalledTimes(1);
  });

  it('exits with 1 when the core fails to stop, or does not stop in time', async () => {
    const failing = setup({ stopCore: async () => Promise.reject(new Error('boom')) });
    failing.beforeQuit();
    await vi.waitFor(() => expect(failing.app.exit).toHaveBeenCalledWith(1));
    const hanging = setup({ stopCore: () => new Promise(() => undefined), timeout: 20 });
    hanging.beforeQuit();
    await vi.waitFor(() => expect(hanging.app.exit).toHaveBeenCalledWith(1));
  });

  it('shutdown (a signal) stops without asking, even when live', async () => {
    const s = setup({ live: TWO_LIVE });
    await s.lifecycle.shutdown();
    expect(s.dialog.showMessageBox).not.toHaveBeenCalled();
    expect(s.stopCore).toHaveBeenCalledTimes(1);
    expect(s.app.exit).toHaveBeenCalledWith(0);
  });
});

describe('quitQuestion', () => {
  it('names one channel in the singular and lists at most five', () => {
    expect(quitQuestion([{ entryId: '0_a', name: 'Alpha' }]).message).toBe('1 channel is live.');
    const many = Array.from({ length: 7 }, (_, i) => ({ entryId: `0_${i}`, name: `Ch ${i}` }));
    expect(quitQuestion(many).detail).toContain('and 2 more');
    expect(quitQuestion(many).buttons).toEqual(['Cancel', 'Stop 7 channels and quit']);
  });
});
