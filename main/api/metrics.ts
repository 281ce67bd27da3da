/** Prometheus metrics (`/metrics` on the admin listener): viewers, bytes and requests per channel, and the process. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ViewerStats } from '../origin/viewer-stats.js';

export function createMetrics(stats: ViewerStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ecdn_' });
  new Gauge({
    name: 'ecdn_channel_viewers',
    help: 'Distinct clients that fetched from the channel within the last 30 s',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pp of stats.channelNames()) this.set({ channel: pp }, stats.snapshot(pp).viewers);
    },
  });
  new Gauge({
    name: 'ecdn_channel_bytes_served',
    help: 'Bytes the origin served for the channel since start (a counter kept by the appliance)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pp of stats.channelNames()) this.set({ channel: pp }, stats.snapshot(pp).bytesServed);
    },
  });
  new Counter({
    name: 'ecdn_channel_requests',
    help: 'Requests the origin answered for the channel, per rendition (track name, or manifest)',
    labelNames: ['channel', 'rendition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const pp of stats.channelNames()) {
        for (const [rendition, n] of Object.entries(stats.snapshot(pp).requestsByRendition))
          this.inc({ channel: pp, rendition }, n);
      }
    },
  });
  return registry;
}
