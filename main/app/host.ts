/**
 * Hosts the appliance core for a shell (`npm run serve`, the Electron main process): loads the options from
 * flags, environment, stored settings and the shell's defaults; starts the core; restarts it when saved
 * settings need it (ports, mode, partner binding, public host, data directory); applies the others (the admin
 * token, webhook URLs) to the running core; stops it. Its `control` stays the same across restarts, so the shell's
 * IPC bridge and tray never re-wire.
 */
import { EventEmitter } from 'node:events';
import type { ControlEvent } from '../contract/contract.js';
import type { ControlDispatcher } from '../api/control-dispatcher.js';
import { SettingsService } from '../settings/settings-service.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { GeneratedTokenKeeping } from './admin-token.js';
import { Appliance, type ApplianceUrls } from './appliance.js';
import type { Logger } from '../lib/logger.js';
import { loadOptions, optionsSource, type ApplianceOptions } from './options.js';

export interface HostOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  settings: SettingsStore;
  log: Logger;
  /** Defaults supplied by the shell (e.g. the desktop app's data directory, the bundled ffmpeg). */
  defaults?: Partial<Record<string, string>>;
  /** Whether the data directory is a setting (desktop: yes; headless: the settings file lives in it). */
  dataDirEditable?: boolean;
  /** Called after each (re)start, e.g. to print the ready line. */
  onStarted?: (appliance: Appliance) => void;
  /**
   * Where a generated admin token is kept: `file` (the data directory, headless) or `memory` (the desktop app,
   * which keeps secrets only in the OS keychain: set a token in the settings to sign in from a browser).
   */
  generatedAdminToken?: GeneratedTokenKeeping;
}

/** How long after answering a settings change the core restarts (so the answer reaches the dashboard). */
export const RESTART_DELAY_MS = 300;

export class ApplianceHost {
  private current!: Appliance;
  private readonly emitter = new EventEmitter<{ event: [ControlEvent] }>();
  private detach: (() => void) | undefined;
  private transition: Promise<void> | undefined;
  private stopped = false;
  readonly settings: SettingsService<ApplianceOptions>;
  readonly control: ControlDispatcher;

  private constructor(private readonly o: HostOptions) {
    this.emitter.setMaxListeners(0);
    this.settings = new SettingsService({
      store: o.settings,
      options: optionsSource(o.argv, o.env, o.defaults),
      current: () => this.current.options,
      dataDirEditable: o.dataDirEditable ?? false,
      generatedToken: o.generatedAdminToken ?? 'file',
      applyLive: (next, keys) => this.current.applyLive(next, keys, o.generatedAdminToken ?? 'file'),
      liveNow: () => this.current.liveNow(),
      restart: () => {
        setTimeout(() => {
          this.restart().catch((err: Error) =>
            o.log.error({ err: err.message }, 'restart with the new settings failed'),
          );
        }, RESTART_DELAY_MS).unref();
      },
    });
    this.control = {
      dispatch: async (operation, request) => {
        await this.transition;
        return this.current.control.dispatch(operation, request);
      },
      onEvent: (listener) => {
        this.emitter.on('event', listener);
        return () => this.emitter.off('event', listener);
      },
    };
  }

  static async start(o: HostOptions): Promise<ApplianceHost> {
    const host = new ApplianceHost(o);
    await host.boot(host.options());
    return host;
  }

  get appliance(): Appliance {
    return this.current;
  }

  get urls(): ApplianceUrls {
    return this.current.urls;
  }

  /** The options now: flags, then environment, then stored settings, then the shell's defaults. */
  options(): ApplianceOptions {
    return loadOptions(this.o.argv, this.o.env, {
      stored: this.o.settings.load(),
      shellDefaults: this.o.defaults,
    });
  }

  /** Stops the core and starts it with the current settings; on failure, starts it again as it was. */
  restart(): Promise<void> {
    const previous = this.current.options;
    const run = (async () => {
      if (this.stopped) return;
      let next: ApplianceOptions;
      try {
        next = this.options();
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'the saved settings are invalid; not restarting');
        return;
      }
      const admin = new URL(this.current.urls.admin);
      admin.port = String(next.adminPort);
      // Through the core's events: WebSocket dashboards get it, and (forwarded) the shell's window.
      this.current.events.publish({ type: 'appliance.restarting', adminUrl: admin.toString() });
      this.o.log.info('restarting the core with the saved settings');
      await this.shutdown('settings-saved');
      try {
        await this.boot(next);
      } catch (err) {
        this.o.log.error(
          { err: (err as Error).message },
          'the core did not start with the saved settings; starting it as it was',
        );
        await this.boot(previous);
      }
    })();
    const settled = run.catch(() => undefined);
    this.transition = settled;
    void settled.then(() => {
      if (this.transition === settled) this.transition = undefined;
    });
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.transition?.catch(() => undefined);
    await this.shutdown();
  }

  private async boot(options: ApplianceOptions): Promise<void> {
    const appliance = await Appliance.start(options, this.o.log, this.settings, this.o.generatedAdminToken);
    this.current = appliance;
    this.detach = appliance.events.on((e) => this.emitter.emit('event', e));
    this.o.onStarted?.(appliance);
  }

  private async shutdown(cause: 'shutdown' | 'settings-saved' = 'shutdown'): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    await this.current.stop(cause);
  }
}
