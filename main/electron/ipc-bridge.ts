/**
 * The IPC side of the control API: the preload's `ecdn:control` calls come in here, are checked (the sender
 * must be the dashboard window's top frame showing the app's own renderer file; the operation must be one of
 * the contract's), and go to the core's dispatcher; control events go out to the window on `ecdn:event`.
 * Every answer is a `ControlResult`: IPC cannot carry typed errors, so they travel as values.
 */
import type { IpcMain, IpcMainInvokeEvent, WebFrameMain } from 'electron';
import {
  IPC_CHANNELS,
  isOperationName,
  type ControlErrorValue,
  type ControlResult,
} from '../contract/contract.js';
import type { ControlDispatcher } from '../api/control-dispatcher.js';
import type { Log } from './types.js';

export const CONTROL_CHANNEL = IPC_CHANNELS.control;
export const EVENT_CHANNEL = IPC_CHANNELS.event;

/** What sender validation reads of a frame. */
export type FrameLike = Pick<WebFrameMain, 'url' | 'parent' | 'processId' | 'routingId'>;

/** What the bridge needs of the dashboard window. */
export interface BridgeWindow {
  isDestroyed(): boolean;
  webContents: {
    id: number;
    mainFrame: FrameLike;
    isDestroyed(): boolean;
    send(channel: string, ...args: unknown[]): void;
  };
}

/** What sender validation reads of an invoke event. */
export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: FrameLike | null;
}

/**
 * `url` without its query and fragment (a hash router changes the fragment), with a Windows drive letter in
 * one case; undefined if not a URL.
 */
function documentOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    u.hash = '';
    u.search = '';
    return u.href.replace(
      /^file:\/\/\/([A-Za-z]):/,
      (_m, drive: string) => `file:///${drive.toUpperCase()}:`,
    );
  } catch {
    return undefined;
  }
}

/**
 * Why a control call must be refused, or undefined when the sender is the dashboard: the window's own
 * webContents, its top frame (not a subframe), on the app's renderer file URL.
 */
export function senderProblem(
  event: InvokeEventLike,
  window: BridgeWindow | undefined,
  rendererUrl: string,
): string | undefined {
  if (!window || window.isDestroyed() || window.webContents.isDestroyed()) return 'no dashboard window';
  const contents = window.webContents;
  if (event.sender.id !== contents.id) return 'sent by another webContents';
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone (navigated or destroyed)';
  const main = contents.mainFrame;
  if (frame.parent !== null || frame.processId !== main.processId || frame.routingId !== main.routingId)
    return 'sent by a subframe';
  const expected = documentOf(rendererUrl);
  if (expected === undefined || documentOf(frame.url) !== expected) return 'the frame is not the dashboard';
  return undefined;
}

function failure(code: ControlErrorValue['code'], status: number, message: string): ControlResult<never> {
  return { ok: false, error: { code, message, status } };
}

export interface ControlBridgeOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  control: ControlDispatcher;
  /** The dashboard window, when there is one. */
  window(): BridgeWindow | undefined;
  /** The file URL the window loads (`pathToFileURL(renderer/dist/index.html)`). */
  rendererUrl: string;
  log: Log;
}

/** Answers one `ecdn:control` call (exported for tests; {@link installControlBridge} registers it). */
export async function handleControlCall(
  o: ControlBridgeOptions,
  event: InvokeEventLike,
  operation: unknown,
  request: unknown,
): Promise<ControlResult<unknown>> {
  const problem = senderProblem(event, o.window(), o.rendererUrl);
  if (problem) {
    o.log.warn(
      {
        reason: problem,
        frameUrl: event.senderFrame?.url.slice(0, 200),
        operation: typeof operation === 'string' ? operation.slice(0, 100) : typeof operation,
      },
      'refused a control call from an unexpected sender',
    );
    return failure('FORBIDDEN', 403, 'control calls are accepted only from the dashboard window');
  }
  if (!isOperationName(operation)) {
    const shown = typeof operation === 'string' ? JSON.stringify(operation.slice(0, 100)) : typeof operation;
    return failure('BAD_REQUEST', 400, `unknown operation ${shown}`);
  }
  try {
    return await o.control.dispatch(operation, request);
  } catch (err) {
    o.log.error({ operation, err: (err as Error).message }, 'control operation failed');
    return failure('INTERNAL', 500, `${operation} failed: ${(err as Error).message}`);
  }
}

/**
 * Registers the `ecdn:control` handler and forwards every control event to the window (when it exists).
 * Returns the function that undoes both.
 */
export function installControlBridge(o: ControlBridgeOptions): () => void {
  o.ipcMain.handle(CONTROL_CHANNEL, (event: IpcMainInvokeEvent, operation: unknown, request: unknown) =>
    handleControlCall(o, event, operation, request),
  );
  const unsubscribe = o.control.onEvent((controlEvent) => {
    const win = o.window();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    try {
      win.webContents.send(EVENT_CHANNEL, controlEvent);
    } catch (err) {
      o.log.warn(
        { type: controlEvent.type, err: (err as Error).message },
        'could not forward a control event',
      );
    }
  });
  return () => {
    o.ipcMain.removeHandler(CONTROL_CHANNEL);
    unsubscribe();
  };
}
