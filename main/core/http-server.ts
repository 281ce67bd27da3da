/** Options shared by the appliance's HTTP listeners (origin and admin). */
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
    bodyLimit,
    return503OnClosing: true,
    // On shutdown, a viewer that stopped reading (or a keep-alive socket) must not hold the appliance open.
    forceCloseConnections: true,
  };
}
