/** Small shared types of the Electron glue (main/electron/): only what the modules need, so tests can fake it. */
import type { Logger } from '../lib/logger.js';

/** The logger methods the glue uses (pino's, narrowed so tests can pass a fake). */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The listener URLs the shell needs (the CSP and which links may open in the browser). */
export interface ListenerUrls {
  rtmp: string;
  origin: string;
  admin: string;
}
