/**
 * Alerts of the whole appliance, not of one channel: the data directory's disk nearly full (fragments and the
 * archive stop being written when it is full), and the eCDN binding lost (publishes are refused). Polled, with
 * hysteresis so a value on the line does not flap; each start and end is logged and sent as a webhook.
 */
import fs from 'node:fs';
import type { Logger } from '../lib/logger.js';
import type { AlertNotification } from './webhooks.js';

/** Nearly full below 5% or 2 GiB free; clear again above 7% and 3 GiB. */
const GIB = 2 ** 30;
export const DISK_LOW = { share: 0.05, bytes: 2 * GIB };
export const DISK_OK = { share: 0.07, bytes: 3 * GIB };

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/** Free and total bytes of the file system holding `dir`. */
export function diskSpace(dir: string): DiskSpace {
  const s = fs.statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

export interface ApplianceAlertsOptions {
  disk: () => DiskSpace;
  /** The eCDN binding's state; absent in standalone mode. */
  binding?: () => { state: string; message?: string };
  notify: (n: AlertNotification) => void;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
}

export class ApplianceAlerts {
  private diskLow = false;
  private bindingLost = false;
  private timer: NodeJS.Timeout | undefined;
  /** The last disk reading (the status shows it). */
  disk: (DiskSpace & { nearlyFull: boolean }) | undefined;

  constructor(private readonly o: ApplianceAlertsOptions) {}

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.o.intervalMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Whether the eCDN binding is lost now (as last checked). */
  get bindingIsLost(): boolean {
    return this.bindingLost;
  }

  /** One look at the disk and the binding (the timer's; tests call it directly). */
  check(): void {
    const at = new Date((this.o.now ?? Date.now)()).toISOString();
    try {
      const d = this.o.disk();
      const share = d.totalBytes > 0 ? d.freeBytes / d.totalBytes : 1;
      const low = share < DISK_LOW.share || d.freeBytes < DISK_LOW.bytes;
      const ok = share > DISK_OK.share && d.freeBytes > DISK_OK.bytes;
      const free = `${(d.freeBytes / GIB).toFixed(1)} GiB free of ${(d.totalBytes / GIB).toFixed(1)} GiB`;
      if (!this.diskLow && low) {
        this.diskLow = true;
        this.raise({
          condition: 'DISK_NEARLY_FULL',
          phase: 'start',
          level: 'error',
          message: `the data directory's disk is nearly full: ${free}; purge archives or add space`,
          at,
        });
      } else if (this.diskLow && ok) {
        this.diskLow = false;
        this.raise({
          condition: 'DISK_NEARLY_FULL',
          phase: 'end',
          level: 'info',
          message: `disk space is back: ${free}`,
          at,
        });
      }
      this.disk = { ...d, nearlyFull: this.diskLow };
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not read the free disk space');
    }
    const b = this.o.binding?.();
    if (!b) return;
    const lost = b.state === 'failed';
    if (lost !== this.bindingLost) {
      this.bindingLost = lost;
      this.raise(
        lost
          ? {
              condition: 'BINDING_LOST',
              phase: 'start',
              level: 'error',
              message: `the eCDN binding failed: ${b.message ?? 'see Settings'}`,
              at,
            }
          : {
              condition: 'BINDING_LOST',
              phase: 'end',
              level: 'info',
              message: 'the eCDN binding works again',
              at,
            },
      );
    }
  }

  private raise(n: AlertNotification): void {
    this.o.log[n.phase === 'start' ? 'error' : 'info']({ condition: n.condition }, n.message);
    this.o.notify(n);
  }
}
