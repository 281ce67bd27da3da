import { useEffect, useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/**
 * Addresses refused without asking after a failed publish (Kaltura's 30 s block), each with its reason and a
 * countdown, and "Allow now" for staff who fixed the encoder and do not want to wait.
 */
export function PublishBlocks({ channel, onChanged }: { channel: ChannelView; onChanged: () => void }) {
  const allow = useAction('channels.allowNow');
  const [now, setNow] = useState(() => Date.now());
  const running = channel.blocks.filter((b) => Date.parse(b.until) > now);
  useEffect(() => {
    if (channel.blocks.length === 0) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [channel.blocks.length]);
  if (running.length === 0) return null;
  return (
    <div className="publish-blocks warning" role="status" data-testid="publish-blocks">
      {running.map((b) => (
        <p key={b.address}>
          Publishes from {b.address} are refused for {Math.ceil((Date.parse(b.until) - now) / 1000)} s more:{' '}
          {b.reason}
        </p>
      ))}
      <button
        type="button"
        disabled={allow.busy}
        onClick={async () => {
          if (await allow.run({ entryId: channel.entryId })) onChanged();
        }}
      >
        Allow now
      </button>
      <ErrorAlert error={allow.error} action="Could not clear the block" />
    </div>
  );
}
