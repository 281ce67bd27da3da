/** Options shared by the appliance's HTTP listeners (origin and admin). */
import type http from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyServerOptions } from 'fastify';
import type { Logger } from './logger.js';

export function listenerOptions(
  log: Logger,
  listener: string,
  bodyLimit = 1024 * 1024,
): FastifyServerOptions & { loggerInstance: FastifyBaseLogger } {
  return {
    loggerInstance: log.child({ listener }) as FastifyBaseLogger,
    // Per-request lines would drown the log at viewer scale; errors are logged by the error handlers.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit,
    return503OnClosing: true,
    // On shutdown, a viewer that stopped reading (or a keep-alive socket) must not hold the appliance open.
    forceCloseConnections: true,
  };
}

/** Socket bounds of a listener: no slow or silent peer holds a socket (and its open files) for ever. */
export interface SocketLimits {
  /** Time to send the request headers. */
  headersTimeoutMs: number;
  /** A socket silent this long (nothing read or written) is closed. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections at once; more are refused by the kernel's accept queue. */
  maxConnections: number;
  /**
   * How often the header timeout is checked (Node's `connectionsCheckingInterval`, 30 s by default, which would
   * let a slowloris peer keep a socket three times longer than the header timeout says).
   */
  checkIntervalMs: number;
}

/** What `http.createServer` needs to apply {@link SocketLimits} (the rest is set by {@link applySocketLimits}). */
export function serverOptions(l: SocketLimits): http.ServerOptions {
  return { connectionsCheckingInterval: l.checkIntervalMs };
}

export const VIEWER_SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: 10_000,
  // Longer than a low-latency blocking reload may be held (3 target durations).
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 8192,
  checkIntervalMs: 1000,
};

export const ADMIN_SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  checkIntervalMs: 1000,
};

/** Applies {@link SocketLimits} to a listener's server. */
export function applySocketLimits(server: http.Server, l: SocketLimits): void {
  server.headersTimeout = l.headersTimeoutMs;
  // No whole-request deadline: uploads to spaces may take minutes; a stalled one hits the idle timeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
  server.setTimeout(l.idleTimeoutMs, (socket) => socket.destroy());
}

/** pino's log methods, whatever their overloads; the object is passed on as a FastifyBaseLogger. */
type Log = (...args: unknown[]) => void;
type ChildArgs = Parameters<FastifyBaseLogger['child']>;

/** `req.log`: the pino child (with the request id) is made the first time something is logged through it. */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: ChildArgs[0],
    private readonly opts: ChildArgs[1],
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(v: string) {
    this.real.level = v;
  }

  child(...args: ChildArgs): FastifyBaseLogger {
    return this.real.child(...args);
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as Log)(...args);
  }
  error(...args: unknown[]): void {
    (this.real.error as Log)(...args);
  }
  warn(...args: unknown[]): void {
    (this.real.warn as Log)(...args);
  }
  info(...args: unknown[]): void {
    (this.real.info as Log)(...args);
  }
  debug(...args: unknown[]): void {
    (this.real.debug as Log)(...args);
  }
  trace(...args: unknown[]): void {
    (this.real.trace as Log)(...args);
  }
  silent(...args: unknown[]): void {
    (this.real.silent as Log)(...args);
  }
}

/**
 * Request loggers made on first use: almost no request logs anything, and a pino child per request (bindings
 * serialised, redaction set up) is a noticeable part of a small response's cost.
 */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  opts,
) => new LazyRequestLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
