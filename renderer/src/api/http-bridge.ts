/**
 * The browser's transport: each operation is an HTTP request as CONTROL_ROUTES says (Bearer admin token),
 * errors become ControlResult values; events arrive on a WebSocket opened with a short-lived ticket, and the
 * socket is reopened with backoff (and a new ticket) whenever it drops.
 */
import {
  CONTROL_ROUTES,
  type ControlEvent,
  type ControlResult,
  type ControlRoute,
  type ErrorCode,
} from '@contract';
import type { ConnectionState, DashboardBridge } from './dashboard-bridge.js';

export interface HttpBridgeOptions {
  getToken: () => string | null;
  /** Where the admin listener is (default: this page's origin, so URLs stay same-origin). */
  origin?: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
}

const TICKET_PATH = '/api/v1/events/ticket';
const EVENTS_PATH = '/api/v1/events';
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/** The error code that goes with an HTTP status when the body carries none. */
function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 502) return 'CONNECTION_FAILED';
  return 'INTERNAL';
}

function apiError(body: unknown): { code: string; message: string } | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e = (body as { error: unknown }).error;
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, message: typeof message === 'string' ? message : code };
}

/** Fills the path's `:params` (`:entryId`, `:targetId`) and splits the rest off as the body (none for GET and DELETE). */
export function routeRequest(
  route: ControlRoute,
  request: unknown,
): { method: ControlRoute['method']; path: string; body: Record<string, unknown> | undefined } {
  const rest: Record<string, unknown> =
    typeof request === 'object' && request !== null ? { ...(request as Record<string, unknown>) } : {};
  const path = route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = encodeURIComponent(String(rest[name] ?? ''));
    delete rest[name];
    return value;
  });
  const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : rest;
  return { method: route.method, path, body };
}

export function createHttpBridge(o: HttpBridgeOptions): DashboardBridge {
  const origin = o.origin ?? window.location.origin;
  const doFetch = o.fetch ?? window.fetch.bind(window);
  const Socket = o.WebSocket ?? window.WebSocket;
  const eventListeners = new Set<(e: ControlEvent) => void>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  const unauthorizedListeners = new Set<() => void>();
  let state: ConnectionState = 'connecting';
  let socket: WebSocket | null = null;
  let started = false;
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every (re)connect so a stale attempt drops its result. */
  let generation = 0;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const l of [...connectionListeners]) l(next);
  };

  async function send(
    method: ControlRoute['method'],
    path: string,
    body: unknown,
  ): Promise<ControlResult<unknown>> {
    const token = o.getToken();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(origin + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      return {
        ok: false,
        error: {
          code: 'UNREACHABLE',
          message: `The appliance cannot be reached (${(err as Error).message || 'network error'}).`,
          status: 0,
        },
      };
    }
    let text = '';
    try {
      text = await res.text();
    } catch {
      // An empty body then.
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return { ok: true, value: json };
    if (res.status === 401) for (const l of [...unauthorizedListeners]) l();
    const e = apiError(json);
    return {
      ok: false,
      error: {
        code: e?.code ?? codeForStatus(res.status),
        message: e?.message ?? (`HTTP ${res.status} ${res.statusText}`.trim() || `HTTP ${res.status}`),
        status: res.status,
      },
    };
  }

  function scheduleReconnect(gen: number) {
    if (gen !== generation) return;
    setState('reconnecting');
    clearTimeout(retry);
    const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 8000;
    attempt++;
    retry = setTimeout(() => void connect(), base + Math.round(Math.random() * base * 0.25));
  }

  async function connect(): Promise<void> {
    const gen = ++generation;
    clearTimeout(retry);
    const old = socket;
    socket = null;
    old?.close();
    const ticket = await send('POST', TICKET_PATH, {});
    if (gen !== generation) return;
    if (!ticket.ok) {
      if (ticket.error.status === 401) setState('unauthorized');
      else scheduleReconnect(gen);
      return;
    }
    const value = ticket.value as { ticket?: unknown };
    if (typeof value?.ticket !== 'string') {
      scheduleReconnect(gen);
      return;
    }
    const wsOrigin = origin.replace(/^http/, 'ws');
    let ws: WebSocket;
    try {
      ws = new Socket(`${wsOrigin}${EVENTS_PATH}?ticket=${encodeURIComponent(value.ticket)}`);
    } catch {
      scheduleReconnect(gen);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (gen !== generation) return;
      attempt = 0;
      setState('open');
    };
    ws.onmessage = (m: MessageEvent) => {
      let event: ControlEvent;
      try {
        event = JSON.parse(String(m.data)) as ControlEvent;
      } catch {
        return;
      }
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return;
      for (const l of [...eventListeners]) {
        try {
          l(event);
        } catch (err) {
          console.error('event listener failed', err);
        }
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      scheduleReconnect(gen);
    };
  }

  const ensureStarted = () => {
    if (started) return;
    started = true;
    void connect();
  };

  return {
    transport: 'http',
    async invoke(operation, request) {
      const route: ControlRoute = CONTROL_ROUTES[operation];
      const { method, path, body } = routeRequest(route, request);
      return (await send(method, path, body)) as never;
    },
    onEvent(listener) {
      eventListeners.add(listener);
      ensureStarted();
      return () => eventListeners.delete(listener);
    },
    connection: () => state,
    onConnection(listener) {
      connectionListeners.add(listener);
      ensureStarted();
      return () => connectionListeners.delete(listener);
    },
    onUnauthorized(listener) {
      unauthorizedListeners.add(listener);
      return () => unauthorizedListeners.delete(listener);
    },
    reconnect() {
      started = true;
      attempt = 0;
      void connect();
    },
  };
}
