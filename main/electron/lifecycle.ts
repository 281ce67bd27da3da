/**
 * The app's lifecycle around the core: closing the window hides it (streams keep running, the tray stays);
 * quitting while any channel is live asks first (Cancel is the default); quitting stops the core and only
 * then exits. A second instance, the dock icon (macOS) and the tray bring the window back.
 */
import type { App, Dialog, MessageBoxOptions } from 'electron';
import type { LiveChannel } from './tray.js';
import type { Log } from './types.js';

/** What the lifecycle needs of the dashboard window. */
export interface LifecycleWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  hide(): void;
  focus(): void;
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
}

export interface LifecycleOptions {
  app: Pick<App, 'on' | 'exit'>;
  dialog: Pick<Dialog, 'showMessageBox'>;
  /** The current window, if any. */
  window(): LifecycleWindow | undefined;
  /** Creates the window again (when it was destroyed after all); undefined while the app is still starting. */
  createWindow(): LifecycleWindow | undefined;
  liveChannels(): Promise<LiveChannel[]>;
  /** Stops the core (ApplianceHost.stop). */
  stopCore(): Promise<void>;
  log: Log;
  /** How long quitting waits for the core to stop before exiting anyway (default 20 s). */
  stopTimeoutMs?: number;
}

type Phase = 'running' | 'asking' | 'stopping' | 'exited';

/** The question asked when quitting with live channels; button 0 (Cancel) is the default and the Esc answer. */
export function quitQuestion(live: readonly LiveChannel[]): MessageBoxOptions {
  const n = live.length;
  const names = live
    .slice(0, 5)
    .map((c) => `• ${c.name}`)
    .join('\n');
  return {
    type: 'question',
    title: 'Quit eCDN Appliance?',
    message: n === 1 ? '1 channel is live.' : `${n} channels are live.`,
    detail:
      `Quitting stops ${n === 1 ? 'it' : 'them'}: encoders are disconnected and viewers lose the stream.\n\n` +
      names +
      (n > 5 ? `\n… and ${n - 5} more` : ''),
    buttons: ['Cancel', n === 1 ? 'Stop it and quit' : `Stop ${n} channels and quit`],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  };
}

export class AppLifecycle {
  private phase: Phase = 'running';

  constructor(private readonly o: LifecycleOptions) {}

  /** True once quitting is decided (the window may then really close). */
  get quitting(): boolean {
    return this.phase === 'stopping' || this.phase === 'exited';
  }

  /** Registers the app events: before-quit (confirm, stop the core, exit), window-all-closed, activate, second-instance. */
  install(): void {
    this.o.app.on('before-quit', (event) => {
      if (this.phase === 'exited') return;
      // Always held: the core stops first, then app.exit.
      event.preventDefault();
      if (this.phase === 'running') void this.quitFlow(true);
    });
    // Keep running in the tray when no window is left (subscribing replaces Electron's quit).
    this.o.app.on('window-all-closed', () => undefined);
    this.o.app.on('activate', () => this.showWindow());
    this.o.app.on('second-instance', () => this.showWindow());
  }

  /** Close hides the window, unless the app is quitting. */
  attachWindow(win: LifecycleWindow): void {
    win.on('close', (event) => {
      if (this.quitting) return;
      event.preventDefault();
      win.hide();
    });
  }

  /** Shows, restores and focuses the window (creating it again if it is gone). */
  showWindow(): void {
    let win = this.o.window();
    if (!win || win.isDestroyed()) {
      win = this.o.createWindow();
      if (!win) return;
      this.attachWindow(win);
    }
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }

  /** Quits without asking (a signal, the OS ending the session): stop the core, exit. */
  shutdown(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'exited') return Promise.resolve();
    return this.quitFlow(false);
  }

  private async quitFlow(ask: boolean): Promise<void> {
    if (ask) {
      this.phase = 'asking';
      const live = await this.o.liveChannels();
      if (live.length > 0) {
        let response = 0;
        try {
          // App-modal, not attached to the window: it shows even while the window is hidden in the tray.
          ({ response } = await this.o.dialog.showMessageBox(quitQuestion(live)));
        } catch (err) {
          this.o.log.warn({ err: (err as Error).message }, 'quit question failed; not quitting');
        }
        if (response !== 1) {
          this.o.log.info({ live: live.length }, 'quit cancelled');
          this.phase = 'running';
          return;
        }
      }
    }
    this.phase = 'stopping';
    let code = 0;
    const timeoutMs = this.o.stopTimeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.o.stopCore(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the core did not stop within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'stopping the core failed; exiting anyway');
      code = 1;
    } finally {
      clearTimeout(timer);
    }
    this.phase = 'exited';
    this.o.app.exit(code);
  }
}
