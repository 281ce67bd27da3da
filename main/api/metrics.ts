/** Prometheus metrics (`/metrics` on the admin listener): viewers, bytes and requests per channel, and the process. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EdgeHostStatsView, SrtStatsView } from '../contract/contract.js';
import type { ViewerStats } from '../origin/viewer-stats.js';

/** The edge's per-origin-host counters (main/edge/edge-stats.ts). */
export interface EdgeMetricsSource {
  hosts(): EdgeHostStatsView[];
}

/** The content monitors (main/monitor/): every channel watched since start and its raised conditions. */
export interface AlertMetricsSource {
  watched(): Array<{ entryId: string; alerts: Array<{ condition: string }> }>;
}

/** The appliance's own alerts (main/alerts/): the data directory's disk, the binding, slow transcoders. */
export interface ApplianceMetricsSource {
  disk(): { freeBytes: number; totalBytes: number; nearlyFull: boolean } | undefined;
  bindingLost(): boolean;
  /** Channels whose transcoder runs slower than real time now. */
  slowTranscoders(): string[];
}

/** The SRT ingest: SRT's statistics of each caller feeding a channel now. */
export interface SrtMetricsSource {
  callers(): Array<{ entry: string; role: 'primary' | 'backup'; stats: SrtStatsView }>;
}

/** The origin listener's fast lane (main/lib/http-fast-lane.ts): what it did since start, and holds now. */
export interface FastLaneMetricsSource {
  readonly counts: { answered: number; passed: number; handedOff: number };
  /** Connections it reads now. */
  readonly size: number;
  /** Request bytes read and not yet answered. */
  readonly unreadBytes: number;
}

/** The content conditions `ecdn_channel_alert` reports (0 or 1 each, per channel watched). */
const ALERT_CONDITIONS = ['BLACK', 'FROZEN', 'SILENCE'] as const;

/** What /metrics reports besides the viewer statistics, each when the appliance has it. */
export interface MetricsSources {
  edge?: EdgeMetricsSource;
  alerts?: AlertMetricsSource;
  appliance?: ApplianceMetricsSource;
  srt?: SrtMetricsSource;
  fastLane?: FastLaneMetricsSource;
}

export function createMetrics(stats: ViewerStats, sources: MetricsSources = {}): Registry {
  const { edge, alerts, appliance, srt, fastLane } = sources;
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
  if (edge) edgeMetrics(registry, edge);
  if (srt) srtMetrics(registry, srt);
  if (alerts)
    new Gauge({
      name: 'ecdn_channel_alert',
      help: 'A content condition of the channel: 1 while raised (black picture, frozen picture, silence), else 0',
      labelNames: ['entry', 'condition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of alerts.watched())
          for (const condition of ALERT_CONDITIONS)
            this.set(
              { entry: w.entryId, condition },
              w.alerts.some((a) => a.condition === condition) ? 1 : 0,
            );
      },
    });
  if (appliance) applianceMetrics(registry, appliance);
  if (fastLane) fastLaneMetrics(registry, fastLane);
  return registry;
}

/** `ecdn_disk_*` and `ecdn_alert{condition}`: the appliance's own alerts, and slow transcoders per channel. */
function applianceMetrics(registry: Registry, a: ApplianceMetricsSource): void {
  new Gauge({
    name: 'ecdn_disk_free_bytes',
    help: "Free bytes on the data directory's file system (checked every 30 s)",
    registers: [registry],
    collect() {
      const d = a.disk();
      if (d) this.set(d.freeBytes);
    },
  });
  new Gauge({
    name: 'ecdn_disk_total_bytes',
    help: "Size of the data directory's file system",
    registers: [registry],
    collect() {
      const d = a.disk();
      if (d) this.set(d.totalBytes);
    },
  });
  new Gauge({
    name: 'ecdn_alert',
    help: 'An alert of the whole appliance: 1 while raised (the disk nearly full, the eCDN binding lost), else 0',
    labelNames: ['condition'],
    registers: [registry],
    collect() {
      this.set({ condition: 'DISK_NEARLY_FULL' }, a.disk()?.nearlyFull ? 1 : 0);
      this.set({ condition: 'BINDING_LOST' }, a.bindingLost() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ecdn_channel_transcoder_slow',
    help: 'Channels whose transcoder runs slower than real time (below 0.9x for 10 s): 1 while it does',
    labelNames: ['entry'],
    registers: [registry],
    collect() {
      this.reset();
      for (const entry of a.slowTranscoders()) this.set({ entry }, 1);
    },
  });
}

/** `ecdn_srt_*{entry, role}`: SRT's own view of each SRT caller's link. */
function srtMetrics(registry: Registry, srt: SrtMetricsSource): void {
  const gauges: Array<[string, string, (s: SrtStatsView) => number]> = [
    ['ecdn_srt_rtt_ms', 'Round-trip time to the SRT caller (ms)', (s) => s.rttMs],
    ['ecdn_srt_receive_mbps', 'Rate received from the SRT caller (Mb/s)', (s) => s.recvRateMbps],
    ['ecdn_srt_bandwidth_mbps', "SRT's estimate of the link's bandwidth (Mb/s)", (s) => s.bandwidthMbps],
    ['ecdn_srt_packets_received', 'Packets received from the SRT caller', (s) => s.packetsReceived],
    ['ecdn_srt_packets_lost', 'Packets lost on the way (asked for again)', (s) => s.packetsLost],
    ['ecdn_srt_packets_retransmitted', 'Retransmitted packets received', (s) => s.packetsRetransmitted],
    ['ecdn_srt_packets_dropped', 'Packets dropped as too late to play', (s) => s.packetsDropped],
    ['ecdn_srt_latency_ms', 'The latency the two ends agreed (ms)', (s) => s.latencyMs],
  ];
  for (const [name, help, value] of gauges)
    new Gauge({
      name,
      help,
      labelNames: ['entry', 'role'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of srt.callers()) this.set({ entry: c.entry, role: c.role }, value(c.stats));
      },
    });
}

/**
 * `ecdn_origin_fast_lane_*`: requests the origin listener's fast lane answered from bytes at hand, passed to the
 * router, connections it handed to Node's parser; connections and unread request bytes it holds now. Answers that
 * stop while viewers keep asking show here first.
 */
function fastLaneMetrics(registry: Registry, lane: FastLaneMetricsSource): void {
  const values: Array<[string, string, () => number, 'counter' | 'gauge']> = [
    [
      'ecdn_origin_fast_lane_answers',
      'Requests the fast lane answered from bytes at hand (the answer memo, the edge)',
      () => lane.counts.answered,
      'counter',
    ],
    [
      'ecdn_origin_fast_lane_passed',
      'Requests the fast lane passed to the router on the same connection',
      () => lane.counts.passed,
      'counter',
    ],
    [
      'ecdn_origin_fast_lane_handed_off',
      "Connections the fast lane handed to Node's own parser (a body, HTTP/1.0, unusual syntax)",
      () => lane.counts.handedOff,
      'counter',
    ],
    ['ecdn_origin_fast_lane_connections', 'Connections the fast lane reads now', () => lane.size, 'gauge'],
    [
      'ecdn_origin_fast_lane_unread_bytes',
      'Request bytes the fast lane has read and not yet answered',
      () => lane.unreadBytes,
      'gauge',
    ],
  ];
  for (const [name, help, value, kind] of values) {
    if (kind === 'counter')
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    else
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value());
        },
      });
  }
}

/** `ecdn_edge_*{origin="host"}`: what the edge did per origin host since start. */
function edgeMetrics(registry: Registry, edge: EdgeMetricsSource): void {
  const gauges: Array<[string, string, (h: EdgeHostStatsView) => number]> = [
    ['ecdn_edge_requests', 'Requests the edge answered for the origin host', (h) => h.requests],
    [
      'ecdn_edge_hits',
      'Requests answered without an upstream request of their own (cache, collapsed, stale)',
      (h) => h.hits + h.stale,
    ],
    ['ecdn_edge_upstream_requests', 'Requests the edge sent to the origin host', (h) => h.upstreamRequests],
    ['ecdn_edge_hit_ratio', 'Hits / requests (0 to 1)', (h) => h.hitRatio],
    ['ecdn_edge_bytes_from_upstream', 'Bytes fetched from the origin host', (h) => h.bytesFromUpstream],
    ['ecdn_edge_bytes_served', 'Bytes served to viewers from the origin host', (h) => h.bytesServed],
    [
      'ecdn_edge_wan_saving_percent',
      '1 - bytes from upstream / bytes served, in percent',
      (h) => h.wanSavingPercent,
    ],
    [
      'ecdn_edge_viewers',
      'Distinct client addresses pulling through the edge within the last 30 s',
      (h) => h.viewers,
    ],
  ];
  for (const [name, help, value] of gauges)
    new Gauge({
      name,
      help,
      labelNames: ['origin'],
      registers: [registry],
      collect() {
        this.reset();
        for (const h of edge.hosts()) this.set({ origin: h.host }, value(h));
      },
    });
}
