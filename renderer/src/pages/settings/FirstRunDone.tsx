import { useEffect, useRef } from 'react';
import type { ApplianceStatus } from '@contract';
import { CopyField } from '../../components/CopyField.js';

/**
 * The wizard's last screen: the appliance's three addresses (encoders, viewers, this dashboard) as it now runs,
 * and the next thing to do.
 */
export function FirstRunDone({
  urls,
  onCreateChannel,
}: {
  urls: ApplianceStatus['urls'];
  onCreateChannel: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main className="wizard" id="main">
      <div className="card wizard-card" data-testid="first-run-done">
        <h1 ref={heading} tabIndex={-1}>
          The appliance is ready
        </h1>
        <p>These are its addresses on your network:</p>
        <CopyField label="Encoders publish to (RTMP)" value={urls.rtmp} testId="done-rtmp-url" />
        <CopyField label="Viewers watch at" value={urls.origin} testId="done-origin-url" />
        <CopyField label="This dashboard" value={urls.admin} testId="done-admin-url" />
        <div className="button-row wizard-buttons">
          <button type="button" className="primary" onClick={onCreateChannel}>
            Create your first channel
          </button>
        </div>
      </div>
    </main>
  );
}
