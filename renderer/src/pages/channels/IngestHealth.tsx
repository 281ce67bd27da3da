import type { IngestView } from '@contract';

/** Primary and backup ingest of a channel: connected or not, and which one feeds the origin. */
export function IngestHealth({ ingests }: { ingests: IngestView[] }) {
  return (
    <ul className="ingests" data-testid="ingest-health">
      {(['primary', 'backup'] as const).map((role) => {
        const found = ingests.filter((i) => i.role === role);
        const feeding = found.some((i) => i.feeding);
        const health = found.length === 0 ? 'none' : feeding ? 'feeding' : 'standby';
        const text =
          health === 'none' ? 'not connected' : health === 'feeding' ? 'feeding' : 'connected, standby';
        return (
          <li key={role} className={`ingest ingest-${health}`} data-role={role} data-health={health}>
            <span className="dot" aria-hidden="true" />
            {role}: {text}
            {found[0] ? <span className="muted"> ({found[0].remote})</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
