/**
 * One autocannon run (its programmatic API) in its own process: the bench's serving figure starts one per
 * server and connection level. Input (stdin JSON): {@link AutocannonJob}; output: {@link AutocannonSummary}.
 */
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { readInput, writeResult } from './io.js';

// autocannon keeps every response body as a string (`body += chunk`: UTF-8 decoding and concatenation of each
// chunk), which for fragments of a megabyte costs the generator ~5 ms of CPU per response and makes it, not the
// server, the bottleneck. The bench never looks at bodies (bytes are counted on the socket): drop them.
const Queue = createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js') as {
  prototype: { addBody: (data: Buffer) => void };
};
Queue.prototype.addBody = () => undefined;

export interface AutocannonJob {
  /** Origin of the server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Paths requested in turn by every connection (a connection starts over after the last). */
  paths: string[];
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

export interface AutocannonSummary {
  connections: number;
  seconds: number;
  requests: number;
  /** Completed requests per second. */
  rps: number;
  /** Response bytes per second. */
  bytesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
}

const job = await readInput<AutocannonJob>();
const r = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.seconds,
  pipelining: 1,
  timeout: 10,
  requests: job.paths.map((path) => ({ method: 'GET', path })),
  ...(job.warmupSeconds > 0 ? { warmup: { connections: job.connections, duration: job.warmupSeconds } } : {}),
});
const summary: AutocannonSummary = {
  connections: job.connections,
  seconds: r.duration,
  requests: r.requests.total,
  rps: r.requests.total / r.duration,
  bytesPerSecond: r.throughput.total / r.duration,
  latencyMs: {
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    mean: r.latency.mean,
  },
  errors: r.errors,
  timeouts: r.timeouts,
  non2xx: r.non2xx,
  resets: r.resets,
};
writeResult(summary);
