/** The transport-neutral face of the control API: what IPC and HTTP/WebSocket both call. */
import type { ControlEvent, ControlResult, OperationName, ResponseOf } from '../contract/contract.js';

export interface ControlDispatcher {
  /** Runs one operation; the request is validated here (transports pass it through untouched). */
  dispatch<K extends OperationName>(operation: K, request: unknown): Promise<ControlResult<ResponseOf<K>>>;
  /** Subscribes to control events; returns the unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void;
}
