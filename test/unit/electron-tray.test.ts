import type { Menu, MenuItemConstructorOptions, NativeImage } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { ChannelView, ControlEvent } from '../../main/contract/contract.js';
import type { ControlDispatcher } from '../../main/api/control-dispatcher.js';
import { listLiveChannels, TrayController, trayModel } from '../../main/electron/tray.js';
import type { Log } from '../../main/electron/types.js';

type Channel = Pick<ChannelView, 'entryId' | 'name' | 'state'>;

const CHANNELS: Channel[] = [
  { entryId: '0_a', name: 'Alpha', state: 'started' },
  { entryId: '0_b', name: 'Beta & Co', state: 'starting' },
  { entryId: '0_c', name: 'Gamma', state: 'idle' },
  { entryId: '0_d', name: 'Delta', state: 'stopped' },
];

const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Log;

function setup(initial: Channel[]) {
  let channels = initial;
  const listeners = new Set<(e: ControlEvent) => void>();
  const dispatch = vi.fn(async (operation: string, request: unknown) => {
    if (operation === 'channels.list') return { ok: true, value: { channels } };
    if (operation === 'channels.stop') {
      const id = (request as { entryId: string }).entryId;
      channels = channels.map((c) => (c.entryId === id ? { ...c, state: 'stopped' as const } : c));
      return { ok: true, value: channels.find((c) => c.entryId === id) };
    }
    return { ok: false, error: { code: 'BAD_REQUEST', message: 'unexpected', status: 400 } };
  });
  const control = {
    dispatch,
    onEvent: (l: (e: ControlEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as ControlDispatcher;
  const icons = {
    idle: { name: 'idle' } as unknown as NativeImage,
    live: { name: 'live' } as unknown as NativeImage,
  };
  const tray = {
    image: undefined as unknown,
    tooltip: '',
    menu: [] as MenuItemConstructorOptions[],
    onClick: undefined as undefined | (() => void),
    setImage(i: unknown) {
      this.image = i;
    },
    setToolTip(t: string) {
      this.tooltip = t;
    },
    setContextMenu(m: unknown) {
      this.menu = m as MenuItemConstructorOptions[];
    },
    on(event: string, l: () => void) {
      if (event === 'click') this.onClick = l;
      return this;
    },
  };
  const openDashboard = vi.fn();
  const quit = vi.fn();
  const controller = new TrayController({
    tray: tray as never,
    buildMenu: (template) => template as unknown as Menu,
    icons,
    control,
    openDashboard,
    quit,
    log,
  });
  return {
    controller,
    tray,
    icons,
    dispatch,
    openDashboard,
    quit,
    emit: (e: ControlEvent) => listeners.forEach((l) => l(e)),
    setChannels: (c: Channel[]) => (channels = c),
    listeners,
  };
}

const click = (item: MenuItemConstructorOptions | undefined) => (item?.click as () => void)();
const labels = (menu: MenuItemConstructorOptions[]) => menu.filter((i) => i.label).map((i) => i.label);

describe('trayModel', () => {
  it('is idle with no live channel', () => {
    const m = trayModel([CHANNELS[2] as Channel, CHANNELS[3] as Channel]);
    expect(m).toEqual({ icon: 'idle', tooltip: 'eCDN Appliance: idle', live: [] });
    expect(trayModel([]).icon).toBe('idle');
  });

  it('counts started and starting channels as live', () => {
    const m = trayModel(CHANNELS);
    expect(m.icon).toBe('live');
    expect(m.tooltip).toBe('eCDN Appliance: 2 live');
    expect(m.live).toEqual([
      { entryId: '0_a', name: 'Alpha' },
      { entryId: '0_b', name: 'Beta & Co' },
    ]);
  });
});

describe('TrayController', () => {
  it('shows 2 live: live icon, tooltip, one Stop item per live channel', async () => {
    const s = setup(CHANNELS);
    await s.controller.start();
    expect(s.tray.image).toBe(s.icons.live);
    expect(s.tray.tooltip).toBe('eCDN Appliance: 2 live');
    expect(labels(s.tray.menu)).toEqual([
      'Open dashboard',
      'Stop Alpha',
      'Stop Beta && Co',
      'Quit eCDN Appliance',
    ]);
  });

  it('shows idle: idle icon and tooltip, a disabled "No live channels"', async () => {
    const s = setup([CHANNELS[2] as Channel]);
    await s.controller.start();
    expect(s.tray.image).toBe(s.icons.idle);
    expect(s.tray.tooltip).toBe('eCDN Appliance: idle');
    expect(s.tray.menu.find((i) => i.label === 'No live channels')?.enabled).toBe(false);
    expect(labels(s.tray.menu).some((l) => l?.startsWith('Stop'))).toBe(false);
  });

  it('clicking "Stop Beta" calls channels.stop with its entryId, then shows the new state', async () => {
    const s = setup(CHANNELS);
    await s.controller.start();
    click(s.tray.menu.find((i) => i.label === 'Stop Beta && Co'));
    await vi.waitFor(() => expect(s.tray.tooltip).toBe('eCDN Appliance: 1 live'));
    expect(s.dispatch).toHaveBeenCalledWith('channels.stop', { entryId: '0_b' });
    expect(s.dispatch.mock.calls.filter((c) => c[0] === 'channels.stop')).toHaveLength(1);
    expect(labels(s.tray.menu)).toEqual(['Open dashboard', 'Stop Alpha', 'Quit eCDN Appliance']);
  });

  it('refreshes on channel.state and channels.changed, not on statistics', async () => {
    const s = setup([]);
    await s.controller.start();
    expect(s.tray.tooltip).toBe('eCDN Appliance: idle');
    const lists = () => s.dispatch.mock.calls.filter((c) => c[0] === 'channels.list').length;
    const before = lists();
    s.emit({ type: 'statistics', samples: [] });
    expect(lists()).toBe(before);
    s.setChannels(CHANNELS);
    s.emit({ type: 'channel.state', entryId: '0_a', state: 'started' });
    await vi.waitFor(() => expect(s.tray.tooltip).toBe('eCDN Appliance: 2 live'));
    s.setChannels([]);
    s.emit({ type: 'channels.changed', entryId: '0_a' });
    await vi.waitFor(() => expect(s.tray.tooltip).toBe('eCDN Appliance: idle'));
    expect(s.tray.image).toBe(s.icons.idle);
  });

  it('coalesces a burst of events into few refreshes', async () => {
    const s = setup(CHANNELS);
    await s.controller.start();
    s.dispatch.mockClear();
    for (let i = 0; i < 10; i++) s.emit({ type: 'channel.state', entryId: '0_a', state: 'started' });
    await s.controller.refresh();
    expect(s.dispatch.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('opens the dashboard from the menu and the icon, quits from the menu', async () => {
    const s = setup([]);
    await s.controller.start();
    click(s.tray.menu.find((i) => i.label === 'Open dashboard'));
    s.tray.onClick?.();
    expect(s.openDashboard).toHaveBeenCalledTimes(2);
    click(s.tray.menu.find((i) => i.label === 'Quit eCDN Appliance'));
    expect(s.quit).toHaveBeenCalledTimes(1);
  });

  it('keeps the last state when the core cannot answer, and unsubscribes on stop', async () => {
    const s = setup(CHANNELS);
    await s.controller.start();
    s.dispatch.mockImplementation(async () => {
      throw new Error('restarting');
    });
    await s.controller.refresh();
    expect(s.tray.tooltip).toBe('eCDN Appliance: 2 live');
    s.controller.stop();
    expect(s.listeners.size).toBe(0);
  });
});

describe('listLiveChannels', () => {
  it('lists the live channels, and none when the core fails', async () => {
    const s = setup(CHANNELS);
    const control = { dispatch: s.dispatch } as unknown as ControlDispatcher;
    expect((await listLiveChannels(control, log)).map((c) => c.entryId)).toEqual(['0_a', '0_b']);
    s.dispatch.mockImplementation(async () => ({
      ok: false,
      error: { code: 'INTERNAL', message: 'x', status: 500 },
    }));
    expect(await listLiveChannels(control, log)).toEqual([]);
  });
});
