/**
 * What the dashboard needs from a transport: the contract's ControlBridge, plus the state of the event
 * connection (for the "reconnecting" banner) and a signal when the credentials are refused.
 */
import type { ControlBridge } from '@contract';

/** `open`: events flow. `unauthorized`: the admin token was refused (show the login screen). */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

export interface DashboardBridge extends ControlBridge {
  /** `ipc` in the Electron window (no login), `http` in a browser. */
  readonly transport: 'ipc' | 'http';
  connection(): ConnectionState;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Called when a request is answered 401 (the token is wrong or was changed). */
  onUnauthorized(listener: () => void): () => void;
  /** Drops the event connection and opens a new one now (after a login, or after a restart). */
  reconnect(): void;
}
