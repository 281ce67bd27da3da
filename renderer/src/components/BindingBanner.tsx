import { useEffect, useState } from 'react';
import type { ApplianceStatus } from '@contract';
import { useBridge } from '../api/hooks.js';

type Binding = NonNullable<ApplianceStatus['binding']>;

/**
 * eCDN mode: what is wrong with the partner binding or the server node, with the fix, re-read every 10 s so
 * a fix made in Kaltura's admin console shows without a reload.
 */
export function BindingBanner({ initial }: { initial: Binding | undefined }) {
  const bridge = useBridge();
  const [binding, setBinding] = useState(initial);
  useEffect(() => setBinding(initial), [initial]);
  useEffect(() => {
    if (!initial) return;
    const timer = setInterval(() => {
      void bridge.invoke('status.get', undefined).then((r) => {
        if (r.ok) setBinding(r.value.binding);
      });
    }, 10_000);
    return () => clearInterval(timer);
  }, [bridge, initial]);
  if (!binding) return null;
  const node = binding.serverNode;
  const nodeProblem = node && (node.state === 'unmanaged' || node.state === 'failed') ? node : undefined;
  if (binding.state !== 'failed' && !nodeProblem) return null;
  return (
    <div className="banner-slot" role="status">
      {binding.state === 'failed' ? (
        <div className="banner banner-error" data-testid="binding-banner">
          <strong>Kaltura binding failed:</strong> {binding.message}
          {binding.fix ? <div className="small">{binding.fix}</div> : null}
        </div>
      ) : null}
      {nodeProblem ? (
        <div className="banner banner-warn" data-testid="server-node-banner">
          <strong>Server node “{nodeProblem.name}”:</strong> {nodeProblem.message}
          {nodeProblem.fix ? <div className="small">{nodeProblem.fix}</div> : null}
        </div>
      ) : null}
    </div>
  );
}
