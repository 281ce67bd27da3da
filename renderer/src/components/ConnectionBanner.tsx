import { useConnection } from '../api/hooks.js';

/** Shown while the event connection is down and being reopened (browsers only; IPC is always connected). */
export function ConnectionBanner() {
  const state = useConnection();
  return (
    <div className="banner-slot" role="status">
      {state === 'reconnecting' ? (
        <div className="banner banner-warn" data-testid="reconnecting-banner">
          <span className="spinner" aria-hidden="true" /> Connection to the appliance lost — reconnecting…
        </div>
      ) : null}
    </div>
  );
}
