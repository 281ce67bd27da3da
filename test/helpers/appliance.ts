/** Starts the real headless appliance (`node --import tsx main/app/serve.ts`) on free loopback ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningAppliance {
  proc: ChildProcess;
  dataDir: string;
  token: string;
  rtmpPort: number;
  httpPort: number;
  adminPort: number;
  origin: string;
  admin: string;
  stdout: () => string;
  /** Sends a control API request with the admin token. */
  api: (method: string, route: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StartOptions {
  /** The address the appliance binds to and is reached at (`--bind`, `--public-host`); 127.0.0.1 by default. */
  host?: string;
  dataDir?: string;
  token?: string | null;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/** A port picked by `freePort` can be taken by another test before the appliance binds it. */
const PORT_RACE_ATTEMPTS = 4;

/**
 * Starts the appliance on free ports. Free ports are only free when probed: a parallel test can
 * take one before the appliance binds it, so a start that fails with EADDRINUSE is retried on new
 * ports (nothing else is retried).
 */
export async function startAppliance(o: StartOptions = {}): Promise<RunningAppliance> {
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-e2e-'));
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o, dataDir);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= PORT_RACE_ATTEMPTS) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(o: StartOptions, dataDir: string): Promise<RunningAppliance> {
  const [rtmpPort, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const token = o.token === null ? undefined : (o.token ?? 'test-admin-token-0123456789');
  const host = o.host ?? '127.0.0.1';
  const args = [
    '--import',
    'tsx',
    'main/app/serve.ts',
    '--data-dir',
    dataDir,
    '--bind',
    host,
    '--public-host',
    host,
  ];
  args.push(
    '--rtmp-port',
    String(rtmpPort),
    '--http-port',
    String(httpPort),
    '--admin-port',
    String(adminPort),
  );
  if (token) args.push('--admin-token', token);
  // SRT (UDP 9000 by default) only for the tests that ask for it, on a port of their own.
  if (!(o.extraArgs ?? []).includes('--srt-port')) args.push('--srt-port', '0');
  args.push(...(o.extraArgs ?? []));
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ECDN_ADMIN_TOKEN: '',
      // No slate unless a test asks for one (--slate-duration): most tests see the presentation end with the encoder.
      ECDN_SLATE_DURATION: '0',
      ECDN_LOG_LEVEL: process.env.ECDN_TEST_LOG_LEVEL ?? 'info',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not become ready:\n${out}`)), 30_000);
    const check = () => {
      if (/ecdn-appliance ready:/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      const message = `appliance exited with ${code} before ready:\n${out}`;
      reject(
        /could not start: listen EADDRINUSE/.test(out) ? new PortTakenError(message) : new Error(message),
      );
    });
  });
  // A generated token is not printed when stdout is not a terminal: it is read where the appliance stored it.
  const resolvedToken = token ?? readStoredToken(dataDir);
  const admin = `http://${host}:${adminPort}`;
  return {
    proc,
    dataDir,
    token: resolvedToken,
    rtmpPort,
    httpPort,
    adminPort,
    origin: `http://${host}:${httpPort}`,
    admin,
    stdout: () => out,
    api: (method, route, body, headers = {}) =>
      fetch(admin + route, {
        method,
        headers: {
          authorization: `Bearer ${resolvedToken}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface ChannelJson {
  entryId: string;
  partnerId: number;
  token: string;
  broadcastUrl: string;
  backupBroadcastUrl: string;
  streamName: string;
  state: string;
  publishingPoint: { name: string; path: string; state: string };
  playback: { hls: string; dash: string };
}

export async function createChannel(a: RunningAppliance, name: string): Promise<ChannelJson> {
  const res = await a.api('POST', '/api/v1/channels', { name });
  if (res.status !== 201) throw new Error(`create channel: ${res.status} ${await res.text()}`);
  return (await res.json()) as ChannelJson;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  stepMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The admin token the appliance generated into its data directory ('' when there is none). */
function readStoredToken(dataDir: string): string {
  try {
    return fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  } catch {
    return '';
  }
}
