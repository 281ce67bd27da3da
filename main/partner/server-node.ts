/**
 * Keeps a Kaltura server node of this appliance alive, as Wowza's Kaltura module does: serverNode.reportStatus
 * with the node's object (so the service creates it when absent) at start and every `intervalMs` (at most
 * 60 s: the service forgets a node whose heartbeat is older than 120 s), and a non-active status on a clean
 * stop. One reporter per role: the streaming server's media server node, and the edge's edge server node.
 * Failures never stop anything: they are kept as the node's state for the status page, and retried.
 */
import type { Logger } from '../lib/logger.js';
import { bindingMessage, type BindingProblemCode } from './binding-problems.js';
import { KalturaApiError, SERVER_NODE_STATUS, type ServerNodeStatus } from './kaltura/client.js';

/** The most a heartbeat may wait: half the service's 120 s freshness. */
export const MAX_REPORT_INTERVAL_MS = 60_000;

export interface ServerNodeClient {
  reportServerNodeStatus(
    hostName: string,
    node: { objectType: string; hostName: string; name: string; [k: string]: unknown } | undefined,
    status: ServerNodeStatus,
  ): Promise<{ id?: number; status?: number }>;
}

export type ServerNodeState = 'reporting' | 'active' | 'unmanaged' | 'failed' | 'stopped';

export interface ServerNodeView {
  /** The node's host name at Kaltura (`--server-node-name`). */
  name: string;
  /** `media` (the streaming server's node) or `edge`. */
  role: 'media' | 'edge';
  state: ServerNodeState;
  /** Kaltura's id of the node, once reported. */
  id?: number;
  code?: BindingProblemCode;
  message?: string;
  /** What to do about a failure (e.g. how to create the node in Kaltura's admin console). */
  fix?: string;
  /** The last heartbeat the service accepted. */
  lastReportAt?: string;
}

export interface ServerNodeReporterOptions {
  /** The node's host name and display name. */
  name: string;
  role: 'media' | 'edge';
  /** The KalturaServerNode subclass the service creates (e.g. KalturaWowzaMediaServerNode). */
  objectType: string;
  /** More fields of the node object (e.g. an edge's playbackHostName, parentId). */
  fields?: Record<string, unknown>;
  partnerId: number;
  intervalMs?: number;
  log: Logger;
  now?: () => number;
}

export class ServerNodeReporter {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private current: ServerNodeView;
  private readonly interval: number;
  private readonly listeners = new Set<(v: ServerNodeView) => void>();

  constructor(
    private readonly client: ServerNodeClient,
    private readonly o: ServerNodeReporterOptions,
  ) {
    this.interval = Math.min(o.intervalMs ?? MAX_REPORT_INTERVAL_MS, MAX_REPORT_INTERVAL_MS);
    this.current = { name: o.name, role: o.role, state: 'reporting' };
  }

  view(): ServerNodeView {
    return { ...this.current };
  }

  /** Told after each report (the binding status follows the node). */
  onChange(listener: (v: ServerNodeView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports now, then every interval until {@link stop}. Resolves after the first report. */
  start(): Promise<void> {
    if (this.running) return this.inFlight ?? Promise.resolve();
    this.running = true;
    return this.tick();
  }

  /** Stops the heartbeat and tells the service the node is not operational (best effort, bounded by the client). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    if (this.current.state !== 'active') {
      this.set({ state: 'stopped' });
      return;
    }
    try {
      await this.client.reportServerNodeStatus(this.o.name, undefined, SERVER_NODE_STATUS.NOT_OPERATIONAL);
      this.o.log.info({ node: this.o.name }, 'server node reported not operational');
    } catch (err) {
      this.o.log.warn(
        { node: this.o.name, reason: (err as Error).message },
        'server node stop report failed',
      );
    }
    this.set({ state: 'stopped' });
  }

  private tick(): Promise<void> {
    this.inFlight = this.report().finally(() => {
      this.inFlight = undefined;
      if (!this.running) return;
      this.timer = setTimeout(() => void this.tick(), this.interval);
      this.timer.unref();
    });
    return this.inFlight;
  }

  private async report(): Promise<void> {
    const node = {
      objectType: this.o.objectType,
      hostName: this.o.name,
      name: this.o.name,
      ...this.o.fields,
    };
    try {
      const r = await this.client.reportServerNodeStatus(this.o.name, node, SERVER_NODE_STATUS.ACTIVE);
      if (this.current.state !== 'active')
        this.o.log.info({ node: this.o.name, id: r.id }, 'server node reported active');
      this.set({
        state: 'active',
        ...(r.id !== undefined ? { id: r.id } : {}),
        lastReportAt: new Date(this.o.now?.() ?? Date.now()).toISOString(),
      });
    } catch (err) {
      const forbidden = err instanceof KalturaApiError && err.code === 'SERVICE_FORBIDDEN';
      const code: BindingProblemCode = forbidden
        ? 'NODE_FEATURE_MISSING'
        : err instanceof KalturaApiError
          ? 'SERVER_NODE_REFUSED'
          : 'SERVICE_UNREACHABLE';
      const detail = err instanceof KalturaApiError ? `${err.code}: ${err.message}` : (err as Error).message;
      const v = { partner: this.o.partnerId, node: this.o.name, detail };
      const message = bindingMessage(code, v);
      if (this.current.message !== message)
        this.o.log.warn({ node: this.o.name, code, reason: detail }, 'server node report failed');
      this.set({
        state: forbidden ? 'unmanaged' : 'failed',
        code,
        message,
        fix: bindingMessage(code, v, 'fix'),
      });
    }
  }

  private set(next: Partial<ServerNodeView> & { state: ServerNodeState }): void {
    const base: ServerNodeView = { name: this.o.name, role: this.o.role, state: next.state };
    // A failed heartbeat keeps what is known of the node (its id, its last accepted heartbeat).
    if (next.state !== 'active') {
      if (this.current.id !== undefined) base.id = this.current.id;
      if (this.current.lastReportAt !== undefined) base.lastReportAt = this.current.lastReportAt;
    }
    this.current = { ...base, ...next };
    for (const l of this.listeners) l(this.view());
  }
}
