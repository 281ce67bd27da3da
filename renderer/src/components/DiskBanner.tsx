import { useEffect, useState } from 'react';
import type { ApplianceStatus } from '@contract';
import { useBridge } from '../api/hooks.js';

type Disk = NonNullable<ApplianceStatus['disk']>;
const GIB = 2 ** 30;

/** The data directory's disk nearly full (the appliance checks every 30 s): said before fragments stop being written. */
export function DiskBanner({ initial }: { initial: Disk | undefined }) {
  const bridge = useBridge();
  const [disk, setDisk] = useState(initial);
  useEffect(() => setDisk(initial), [initial]);
  useEffect(() => {
    const timer = setInterval(() => {
      void bridge.invoke('status.get', undefined).then((r) => {
        if (r.ok) setDisk(r.value.disk);
      });
    }, 30_000);
    return () => clearInterval(timer);
  }, [bridge]);
  if (!disk?.nearlyFull) return null;
  return (
    <div className="banner-slot" role="status">
      <div className="banner banner-error" data-testid="disk-banner">
        <strong>The data directory&apos;s disk is nearly full:</strong> {(disk.freeBytes / GIB).toFixed(1)}{' '}
        GiB free of {(disk.totalBytes / GIB).toFixed(1)} GiB.
        <div className="small">
          Purge archives of channels that are over (channel page → Archive), or give the data directory more
          space.
        </div>
      </div>
    </div>
  );
}
