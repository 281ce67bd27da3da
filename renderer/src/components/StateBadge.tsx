import type { ChannelView } from '@contract';

const LABEL: Record<ChannelView['state'], string> = {
  idle: 'idle',
  starting: 'starting',
  started: 'started',
  stopping: 'stopping',
  stopped: 'stopped',
};

/** A channel's state (idle, starting, started, stopping, stopped) as a coloured badge. */
export function StateBadge({ state }: { state: ChannelView['state'] }) {
  return (
    <span className={`badge badge-${state}`} data-testid="state-badge" data-state={state}>
      {LABEL[state] ?? state}
    </span>
  );
}
