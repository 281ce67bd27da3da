/** React access to the transport: the bridge, events, connection state, one-shot actions and fetched data. */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { ControlErrorValue, ControlEvent, OperationName, RequestOf, ResponseOf } from '@contract';
import type { ConnectionState, DashboardBridge } from './dashboard-bridge.js';

export const BridgeContext = createContext<DashboardBridge | null>(null);

export function useBridge(): DashboardBridge {
  const bridge = useContext(BridgeContext);
  if (!bridge) throw new Error('useBridge outside <BridgeContext.Provider>');
  return bridge;
}

/** Calls `listener` for every control event while mounted (the latest listener, without resubscribing). */
export function useControlEvents(listener: (event: ControlEvent) => void): void {
  const bridge = useBridge();
  const ref = useRef(listener);
  useEffect(() => {
    ref.current = listener;
  });
  useEffect(() => bridge.onEvent((e) => ref.current(e)), [bridge]);
}

export function useConnection(): ConnectionState {
  const bridge = useBridge();
  return useSyncExternalStore(
    (notify) => bridge.onConnection(notify),
    () => bridge.connection(),
  );
}

/** Bumped each time the event connection comes back after a drop: data fetched before may be stale. */
export function useResync(): number {
  const bridge = useBridge();
  const [n, setN] = useState(0);
  useEffect(() => {
    let dropped = false;
    return bridge.onConnection((s) => {
      if (s === 'reconnecting') dropped = true;
      if (s === 'open' && dropped) {
        dropped = false;
        setN((x) => x + 1);
      }
    });
  }, [bridge]);
  return n;
}

export interface ActionState<T> {
  busy: boolean;
  error: ControlErrorValue | null;
  result: T | null;
}

/**
 * One user action on the control API: `run` invokes the operation and keeps `busy`, the failure (shown to the
 * user) and the last result. Resolves with the value, or undefined when it failed.
 */
export function useAction<K extends OperationName>(
  operation: K,
): ActionState<ResponseOf<K>> & {
  run: (request: RequestOf<K>) => Promise<ResponseOf<K> | undefined>;
  reset: () => void;
} {
  const bridge = useBridge();
  const [state, setState] = useState<ActionState<ResponseOf<K>>>({ busy: false, error: null, result: null });
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(
    async (request: RequestOf<K>) => {
      setState((s) => ({ ...s, busy: true, error: null }));
      const r = await bridge.invoke(operation, request);
      if (!mounted.current) return r.ok ? r.value : undefined;
      if (r.ok) {
        setState({ busy: false, error: null, result: r.value });
        return r.value;
      }
      setState({ busy: false, error: r.error, result: null });
      return undefined;
    },
    [bridge, operation],
  );
  const reset = useCallback(() => setState({ busy: false, error: null, result: null }), []);
  return { ...state, run, reset };
}

export interface Resource<T> {
  data: T | null;
  error: ControlErrorValue | null;
  loading: boolean;
  /** Fetches again (keeps showing the previous data meanwhile). */
  reload: () => void;
}

/** Data fetched with one operation; refetched when `key` changes (serialise the request into it). */
export function useResource<K extends OperationName>(
  operation: K,
  request: RequestOf<K>,
  key: string,
): Resource<ResponseOf<K>> {
  const bridge = useBridge();
  const [data, setData] = useState<ResponseOf<K> | null>(null);
  const [error, setError] = useState<ControlErrorValue | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const requestRef = useRef(request);
  requestRef.current = request;
  useEffect(() => {
    let live = true;
    setLoading(true);
    void bridge.invoke(operation, requestRef.current).then((r) => {
      if (!live) return;
      setLoading(false);
      if (r.ok) {
        setData(r.value);
        setError(null);
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [bridge, operation, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** A function that runs `fn` once, `ms` after the last call (for refetching on bursts of events). */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    ref.current = fn;
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => ref.current(), ms);
  }, [ms]);
}
