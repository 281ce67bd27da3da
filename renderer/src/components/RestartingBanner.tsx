import { useEffect, useState } from 'react';
import { useBridge } from '../api/hooks.js';

/**
 * The appliance restarts to apply settings: wait until it answers again (a new `startedAt`), then carry on;
 * in a browser whose admin URL changed, open the dashboard at the new address once it is up.
 */
export function RestartingBanner({
  adminUrl,
  startedAt,
  onBack,
}: {
  adminUrl: string | null;
  startedAt: string | null;
  onBack: () => void;
}) {
  const bridge = useBridge();
  const [seconds, setSeconds] = useState(0);
  const [target, setTarget] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const began = Date.now();
    const moved =
      bridge.transport === 'http' && adminUrl !== null && new URL(adminUrl).origin !== window.location.origin
        ? new URL('/', adminUrl).href
        : null;
    setTarget(moved);
    const tick = async () => {
      if (stop) return;
      setSeconds(Math.round((Date.now() - began) / 1000));
      if (moved) {
        try {
          await fetch(new URL('/api/v1/health', moved), { mode: 'no-cors', cache: 'no-store' });
          window.location.assign(moved);
          return;
        } catch {
          // Not up yet.
        }
      } else {
        const r = await bridge.invoke('status.get', undefined);
        // Either a new core (new startedAt), or the same one answering well after the restart was announced.
        if (r.ok && (r.value.startedAt !== startedAt || Date.now() - began > 20_000)) {
          bridge.reconnect();
          onBack();
          return;
        }
      }
      if (!stop) setTimeout(() => void tick(), 1000);
    };
    const first = setTimeout(() => void tick(), 1000);
    return () => {
      stop = true;
      clearTimeout(first);
    };
  }, [bridge, adminUrl, startedAt, onBack]);
  return (
    <div className="banner banner-info" role="status" data-testid="restarting-banner">
      <span className="spinner" aria-hidden="true" /> The appliance is restarting with the new settings… (
      {seconds} s)
      {target ? (
        <>
          {' '}
          It will answer at <a href={target}>{target}</a>; this page goes there when it is up.
        </>
      ) : null}
    </div>
  );
}
