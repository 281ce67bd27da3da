/** The appliance's own alerts (disk nearly full, binding lost) and a transcoder slower than real time. */
import { describe, expect, it } from 'vitest';
import { ApplianceAlerts, type DiskSpace } from '../../main/alerts/appliance-alerts.js';
import { alertOf } from '../../main/alerts/channel-alerts.js';
import { TranscoderSpeedWatch } from '../../main/alerts/transcoder-speed.js';
import type { AlertNotification } from '../../main/alerts/webhooks.js';
import type { StatisticsSample } from '../../main/contract/contract.js';
import { createLogger } from '../../main/lib/logger.js';

const GIB = 2 ** 30;
const log = createLogger('silent');

describe('appliance alerts', () => {
  it('disk nearly full below 5% or 2 GiB, cleared above 7% and 3 GiB (no flapping on the line)', () => {
    let disk: DiskSpace = { freeBytes: 50 * GIB, totalBytes: 100 * GIB };
    const sent: AlertNotification[] = [];
    const a = new ApplianceAlerts({ disk: () => disk, notify: (n) => sent.push(n), log });
    a.check();
    disk = { freeBytes: 4 * GIB, totalBytes: 100 * GIB };
    a.check();
    expect(sent.map((n) => `${n.condition} ${n.phase}`)).toEqual(['DISK_NEARLY_FULL start']);
    expect(a.disk?.nearlyFull).toBe(true);
    disk = { freeBytes: 6 * GIB, totalBytes: 100 * GIB };
    a.check();
    expect(sent).toHaveLength(1);
    disk = { freeBytes: 8 * GIB, totalBytes: 100 * GIB };
    a.check();
    expect(sent.map((n) => `${n.condition} ${n.phase}`)).toEqual([
      'DISK_NEARLY_FULL start',
      'DISK_NEARLY_FULL end',
    ]);
    // A small disk: 2 GiB free is nearly full whatever the share.
    disk = { freeBytes: 1.5 * GIB, totalBytes: 10 * GIB };
    a.check();
    expect(sent.at(-1)).toMatchObject({ condition: 'DISK_NEARLY_FULL', phase: 'start', level: 'error' });
  });

  it('binding lost when the eCDN binding fails, and back', () => {
    let state = 'ok';
    const sent: AlertNotification[] = [];
    const a = new ApplianceAlerts({
      disk: () => ({ freeBytes: 50 * GIB, totalBytes: 100 * GIB }),
      binding: () => ({ state, message: 'MEDIA_SERVER_NOT_FOUND' }),
      notify: (n) => sent.push(n),
      log,
    });
    a.check();
    state = 'failed';
    a.check();
    a.check();
    state = 'ok';
    a.check();
    expect(sent.map((n) => `${n.condition} ${n.phase}`)).toEqual(['BINDING_LOST start', 'BINDING_LOST end']);
    expect(a.bindingIsLost).toBe(false);
    expect(sent[0]?.message).toContain('MEDIA_SERVER_NOT_FOUND');
  });
});

describe('a transcoder slower than real time', () => {
  const sample = (speed: number | null): StatisticsSample[] => [
    {
      at: '',
      entryId: '0_x',
      viewers: 0,
      bytesServed: 0,
      renditions: [{ streamName: '0_x_1', fps: 30, speed, bitrate: 1, dropFrames: 0, bytes: 1 }],
    } as unknown as StatisticsSample,
  ];
  it('is an alert after 10 s below 0.9×, ends after 6 s at real time; catching up fast is no fault', () => {
    const events: string[] = [];
    const w = new TranscoderSpeedWatch((_e, _l, code) => events.push(code));
    for (const s of [3.5, 2, 1.01, 0.8, 0.8, 0.8, 0.8]) w.sample(sample(s));
    expect(events).toEqual([]);
    w.sample(sample(0.85));
    expect(events).toEqual(['TRANSCODER_SLOW']);
    expect(w.slow()).toEqual(['0_x']);
    for (const s of [0.8, 1, 1, 1]) w.sample(sample(s));
    expect(events).toEqual(['TRANSCODER_SLOW', 'TRANSCODER_CAUGHT_UP']);
    expect(w.slow()).toEqual([]);
    expect(
      alertOf({ entryId: '0_x', at: 0, level: 'warn', code: 'TRANSCODER_SLOW', message: '' }),
    ).toMatchObject({
      condition: 'TRANSCODER_SLOW',
      phase: 'start',
    });
  });
});
