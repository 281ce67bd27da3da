/**
 * A body still arriving from upstream: everyone who asks for the object meanwhile is sent what arrived and then
 * each chunk as it arrives, from the one upstream request. Chunks are shared (never copied per viewer).
 */

export interface BodySink {
  write(chunk: Buffer): unknown;
  end(): unknown;
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export class GrowingBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private state: 'growing' | 'done' | 'failed' = 'growing';
  private readonly sinks = new Set<{ sink: BodySink; done: (bytes: number) => void; sent: number }>();
  private whole: Buffer | undefined;
  private settle!: (ok: boolean) => void;
  /** True once the whole body arrived, false when upstream failed part way. */
  readonly finished = new Promise<boolean>((resolve) => (this.settle = resolve));

  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    /** Upstream's Content-Length, when it gave one. */
    readonly declaredLength: number | undefined,
  ) {}

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (this.state !== 'growing') return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (const s of this.sinks) {
      s.sink.write(chunk);
      s.sent += chunk.length;
    }
  }

  end(): void {
    if (this.state !== 'growing') return;
    this.state = 'done';
    for (const s of this.sinks) {
      s.sink.end();
      s.done(s.sent);
    }
    this.sinks.clear();
    this.settle(true);
  }

  fail(): void {
    if (this.state !== 'growing') return;
    this.state = 'failed';
    // A response whose headers went out cannot say so: it is cut short, as any proxy does.
    for (const s of this.sinks) {
      s.sink.destroy();
      s.done(s.sent);
    }
    this.sinks.clear();
    this.settle(false);
  }

  /** The whole body, once finished. */
  body(): Buffer {
    this.whole ??= Buffer.concat(this.chunks, this.size);
    return this.whole;
  }

  /** Sends what arrived so far and every chunk after it; `done` is told the bytes sent. */
  pipeTo(sink: BodySink, done: (bytes: number) => void): void {
    let sent = 0;
    for (const c of this.chunks) {
      sink.write(c);
      sent += c.length;
    }
    if (this.state === 'done') {
      sink.end();
      return done(sent);
    }
    if (this.state === 'failed') {
      sink.destroy();
      return done(sent);
    }
    const entry = { sink, done, sent };
    this.sinks.add(entry);
    // A viewer that goes away stops being written to.
    sink.once('close', () => {
      if (this.sinks.delete(entry)) done(entry.sent);
    });
  }
}
