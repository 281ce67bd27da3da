/**
 * The tray icon: whether anything is live (icon and tooltip), and a menu to open the dashboard, stop each
 * live channel, or quit. The model is a pure function of `channels.list`; the controller refreshes it when
 * a channel's state changes or the list changes. Tray, Menu and the images are injected.
 */
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { ChannelView } from '../contract/contract.js';
import type { ControlDispatcher } from '../api/control-dispatcher.js';
import type { Log } from './types.js';

export const APP_NAME = 'eCDN Appliance';

export interface LiveChannel {
  entryId: string;
  name: string;
}

export interface TrayModel {
  icon: 'live' | 'idle';
  tooltip: string;
  live: LiveChannel[];
}

/** A channel counts as live from the moment its encoder connects until it stops. */
export function isLive(channel: Pick<ChannelView, 'state'>): boolean {
  return channel.state === 'started' || channel.state === 'starting';
}

export function trayModel(channels: readonly Pick<ChannelView, 'entryId' | 'name' | 'state'>[]): TrayModel {
  const live = channels.filter(isLive).map((c) => ({ entryId: c.entryId, name: c.name }));
  return live.length > 0
    ? { icon: 'live', tooltip: `${APP_NAME}: ${live.length} live`, live }
    : { icon: 'idle', tooltip: `${APP_NAME}: idle`, live };
}

/** Menu labels: short, and `&` kept literal (Electron reads a single `&` as an access key; `&&` shows `&`). */
function label(text: string): string {
  const short = text.length > 60 ? `${text.slice(0, 59)}…` : text;
  return short.replace(/&/g, '&&');
}

export interface TrayActions {
  openDashboard(): void;
  stopChannel(entryId: string): void;
  quit(): void;
}

export function trayMenuTemplate(model: TrayModel, actions: TrayActions): MenuItemConstructorOptions[] {
  const stops: MenuItemConstructorOptions[] =
    model.live.length > 0
      ? model.live.map((c) => ({
          label: `Stop ${label(c.name)}`,
          click: () => actions.stopChannel(c.entryId),
        }))
      : [{ label: 'No live channels', enabled: false }];
  return [
    { label: 'Open dashboard', click: () => actions.openDashboard() },
    { type: 'separator' },
    ...stops,
    { type: 'separator' },
    { label: `Quit ${APP_NAME}`, click: () => actions.quit() },
  ];
}

/** The live channels right now (empty, and logged, when the core cannot answer). */
export async function listLiveChannels(
  control: Pick<ControlDispatcher, 'dispatch'>,
  log: Log,
): Promise<LiveChannel[]> {
  try {
    const result = await control.dispatch('channels.list', undefined);
    if (result.ok) return trayModel(result.value.channels).live;
    log.warn({ code: result.error.code, err: result.error.message }, 'could not list channels');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not list channels');
  }
  return [];
}

export interface TrayControllerOptions {
  tray: Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'on'>;
  /** Menu.buildFromTemplate (injected). */
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  icons: Record<TrayModel['icon'], NativeImage>;
  control: Pick<ControlDispatcher, 'dispatch' | 'onEvent'>;
  openDashboard(): void;
  quit(): void;
  log: Log;
}

export class TrayController {
  private current: TrayModel = trayModel([]);
  private running: Promise<void> | undefined;
  private again = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: TrayControllerOptions) {}

  get model(): TrayModel {
    return this.current;
  }

  /** Shows the idle state, subscribes to channel events, and loads the real state. */
  start(): Promise<void> {
    this.render();
    this.o.tray.on('click', () => this.o.openDashboard());
    this.unsubscribe = this.o.control.onEvent((event) => {
      if (
        event.type === 'channel.state' ||
        event.type === 'channels.changed' ||
        event.type === 'appliance.restarting'
      )
        void this.refresh();
    });
    return this.refresh();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Reloads the channel list; calls during a refresh coalesce into one more. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.refreshOnce();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async refreshOnce(): Promise<void> {
    try {
      const result = await this.o.control.dispatch('channels.list', undefined);
      if (!result.ok) {
        this.o.log.warn(
          { code: result.error.code, err: result.error.message },
          'tray: could not list channels',
        );
        return;
      }
      this.current = trayModel(result.value.channels);
      this.render();
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'tray: could not list channels');
    }
  }

  private render(): void {
    const m = this.current;
    this.o.tray.setImage(this.o.icons[m.icon]);
    this.o.tray.setToolTip(m.tooltip);
    this.o.tray.setContextMenu(
      this.o.buildMenu(
        trayMenuTemplate(m, {
          openDashboard: () => this.o.openDashboard(),
          stopChannel: (entryId) => void this.stopChannel(entryId),
          quit: () => this.o.quit(),
        }),
      ),
    );
  }

  /** The menu's "Stop <name>": stops the channel, then shows the new state. */
  async stopChannel(entryId: string): Promise<void> {
    try {
      const result = await this.o.control.dispatch('channels.stop', { entryId });
      if (!result.ok)
        this.o.log.warn({ entryId, code: result.error.code, err: result.error.message }, 'tray: stop failed');
    } catch (err) {
      this.o.log.warn({ entryId, err: (err as Error).message }, 'tray: stop failed');
    }
    await this.refresh();
  }
}
