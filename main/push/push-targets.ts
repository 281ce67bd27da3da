/**
 * Push targets: each channel's stream also goes, copied, to the destinations staff add (the partner's Kaltura
 * entry, YouTube, another appliance). Targets are kept in the store; while a channel's first stream feeds the
 * origin, each enabled target has a {@link PushRun}. Targets can be added, disabled and removed while live.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import type { PushTargetView } from '../contract/contract.js';
import { PushRun, renditionInput, sourceInput, type PushStatus } from './push-run.js';
import { maskPushUrl } from './push-target-url.js';
import { MAX_TARGETS_PER_CHANNEL, type PushTargetRecord, type PushTargetStore } from './push-target-store.js';

export interface PushTargetsOptions {
  store: PushTargetStore;
  ffmpegPath: string;
  /** The ingest's single-use pull URL of a stream (IngestServer.pullUrl). */
  pullUrl: (internalPath: string) => string;
  /** A transcoded rendition's video and audio track playlists on the origin (loopback, signed when secure). */
  renditionUrls?: (entryId: string, rendition: string) => { video: string; audio: string };
  log: Logger;
  backoff?: readonly number[];
}

export class PushTargetLimitError extends Error {}

/** The stream pushed: the channel's first (`<entry>_1`), whichever ingest (primary or backup) feeds it. */
const PUSHED_STREAM = 1;

export class PushTargets extends EventEmitter<{ changed: [entryId: string] }> {
  /** entryId -> the ingest path of its stream while it feeds the origin. */
  private readonly live = new Map<string, string>();
  /** target id -> its run (only while the channel is live and the target enabled). */
  private readonly runs = new Map<string, { entryId: string; run: PushRun }>();
  /** target id -> the last status of a run that ended (bytes sent, last error). */
  private readonly last = new Map<string, PushStatus>();

  constructor(private readonly o: PushTargetsOptions) {
    super();
  }

  list(entryId: string): Array<PushTargetRecord & { status: PushStatus }> {
    return this.o.store.list(entryId).map((t) => ({ ...t, status: this.statusOf(t) }));
  }

  get(entryId: string, id: string): (PushTargetRecord & { status: PushStatus }) | undefined {
    const t = this.o.store.get(entryId, id);
    return t && { ...t, status: this.statusOf(t) };
  }

  private statusOf(t: PushTargetRecord): PushStatus {
    const run = this.runs.get(t.id)?.run.status;
    if (run) return run;
    const last = this.last.get(t.id);
    const base = {
      bytesSent: last?.bytesSent ?? 0,
      failures: 0,
      ...(last?.lastError ? { lastError: last.lastError } : {}),
    };
    return { ...base, state: t.enabled ? 'idle' : 'disabled' };
  }

  create(
    entryId: string,
    t: { url: string; name: string; enabled: boolean; rendition?: string },
  ): PushTargetRecord {
    if (this.o.store.list(entryId).length >= MAX_TARGETS_PER_CHANNEL)
      throw new PushTargetLimitError(`a channel has at most ${MAX_TARGETS_PER_CHANNEL} push targets`);
    const rec = this.o.store.create(entryId, t);
    this.reconcile(entryId);
    this.emit('changed', entryId);
    return rec;
  }

  async update(entryId: string, id: string, change: { name?: string; enabled?: boolean }): Promise<boolean> {
    if (!this.o.store.update(entryId, id, change)) return false;
    await this.reconcile(entryId);
    this.emit('changed', entryId);
    return true;
  }

  async delete(entryId: string, id: string): Promise<boolean> {
    if (!this.o.store.delete(entryId, id)) return false;
    await this.reconcile(entryId);
    this.last.delete(id);
    this.emit('changed', entryId);
    return true;
  }

  /** A channel was deleted: its targets go with it. */
  async deleteChannel(entryId: string): Promise<void> {
    this.live.delete(entryId);
    await this.reconcile(entryId);
    this.o.store.deleteChannel(entryId);
  }

  feedStarted(f: { entryId: string; streamIndex: number; internalPath: string }): void {
    if (f.streamIndex !== PUSHED_STREAM) return;
    if (this.live.get(f.entryId) === f.internalPath) return;
    // Failover: the other ingest now feeds; the pushes follow it.
    const restart = this.live.has(f.entryId);
    this.live.set(f.entryId, f.internalPath);
    void (async () => {
      if (restart) await this.stopRuns(f.entryId, () => true);
      await this.reconcile(f.entryId);
    })();
  }

  feedStopped(f: { entryId: string; streamIndex: number }): void {
    if (f.streamIndex !== PUSHED_STREAM || !this.live.delete(f.entryId)) return;
    void this.reconcile(f.entryId);
  }

  /** Every push ended (shutdown). */
  async stopAll(): Promise<void> {
    this.live.clear();
    await Promise.all([...this.runs.values()].map((r) => r.run.stop()));
    this.runs.clear();
  }

  /** Starts the runs an entry should have and stops the others. */
  private async reconcile(entryId: string): Promise<void> {
    const path = this.live.get(entryId);
    const targets = this.o.store.list(entryId);
    const wanted = new Set(path === undefined ? [] : targets.filter((t) => t.enabled).map((t) => t.id));
    await this.stopRuns(entryId, (id) => !wanted.has(id));
    for (const t of targets) {
      if (!wanted.has(t.id) || this.runs.has(t.id) || path === undefined) continue;
      const run = new PushRun({
        ffmpegPath: this.o.ffmpegPath,
        url: t.url,
        protocol: t.protocol,
        input: () => this.inputOf(entryId, t.rendition, path),
        log: this.o.log.child({ entryId, target: t.id }),
        ...(this.o.backoff ? { backoff: this.o.backoff } : {}),
      });
      // Told on each change of state (not on every byte count: the dashboard reads those when it lists).
      let state = run.status.state;
      run.on('status', (st) => {
        if (st.state === state) return;
        state = st.state;
        this.emit('changed', entryId);
      });
      this.runs.set(t.id, { entryId, run });
      run.start();
    }
  }

  /** ffmpeg's input of a target: the ingest's stream, or a transcoded rendition's tracks on the origin. */
  private inputOf(entryId: string, rendition: string, path: string): string[] {
    if (rendition === 'source' || !this.o.renditionUrls) return sourceInput(this.o.pullUrl(path));
    const { video, audio } = this.o.renditionUrls(entryId, rendition);
    return renditionInput(video, audio);
  }

  private async stopRuns(entryId: string, which: (id: string) => boolean): Promise<void> {
    const ending = [...this.runs.entries()].filter(([id, r]) => r.entryId === entryId && which(id));
    // What they sent stays shown while they stop, and after.
    for (const [id, { run }] of ending) {
      this.runs.delete(id);
      this.last.set(id, run.status);
    }
    await Promise.all(
      ending.map(async ([id, { run }]) => {
        const disabled = this.o.store.get(entryId, id)?.enabled === false;
        await run.stop(disabled ? 'disabled' : 'idle');
        this.last.set(id, run.status);
      }),
    );
    if (ending.length > 0) this.emit('changed', entryId);
  }
}

/** What the control API shows of a target: the URL masked. */
export function pushTargetView(t: PushTargetRecord & { status: PushStatus }): PushTargetView {
  const s = t.status;
  return {
    id: t.id,
    entryId: t.entryId,
    name: t.name,
    url: maskPushUrl(t.url),
    protocol: t.protocol,
    rendition: t.rendition,
    enabled: t.enabled,
    state: s.state,
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    bytesSent: s.bytesSent,
    ...(s.liveSince !== undefined ? { liveSince: new Date(s.liveSince).toISOString() } : {}),
    ...(s.retryAt !== undefined ? { retryAt: new Date(s.retryAt).toISOString() } : {}),
    failures: s.failures,
  };
}
