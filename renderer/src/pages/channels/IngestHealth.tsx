import type { IngestView } from '@contract';

function rate(bps: number): string {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mbit/s` : `${Math.round(bps / 1e3)} kbit/s`;
}

/**
 * Primary and backup ingest of a channel: connected or not, which one feeds the origin, and (with `details`) what
 * is measured from the encoder's packets, with warnings in plain words.
 */
export function IngestHealth({ ingests, details = false }: { ingests: IngestView[]; details?: boolean }) {
  return (
    <ul className="ingests" data-testid="ingest-health">
      {(['primary', 'backup'] as const).map((role) => {
        const found = ingests.filter((i) => i.role === role);
        const feeding = found.some((i) => i.feeding);
        const warned = found.some((i) => i.warnings.length > 0);
        const health = found.length === 0 ? 'none' : feeding ? 'feeding' : 'standby';
        const text = found.length === 0 ? 'not connected' : feeding ? 'feeding' : 'connected, standby';
        const h = found[0]?.health;
        return (
          <li
            key={role}
            className={`ingest ingest-${health}${warned ? ' ingest-warned' : ''}`}
            data-role={role}
            data-health={health}
            data-warned={warned}
          >
            <span className="dot" aria-hidden="true" />
            {role}: {text}
            {found[0] ? <span className="muted"> ({found[0].remote})</span> : null}
            {details && h ? (
              <span className="muted small" data-testid="ingest-measured">
                {' '}
                · {h.fps ?? '–'} fps · {rate(h.bitrate)} (peak {rate(h.peakBitrate)}) · key frames every{' '}
                {h.keyFrameIntervalMs === null ? '–' : `${(h.keyFrameIntervalMs / 1000).toFixed(1)} s`}
                {h.bFrames ? ' · B-frames' : ''}
                {h.audio ? '' : ' · no audio'}
                {h.driftMs > 1000 ? ` · ${(h.driftMs / 1000).toFixed(1)} s behind` : ''}
              </span>
            ) : null}
            {details
              ? found
                  .flatMap((i) => i.warnings)
                  .map((w) => (
                    <div
                      key={w.code}
                      className="warning small"
                      role="status"
                      data-testid="ingest-warning"
                      data-code={w.code}
                    >
                      {w.message}
                    </div>
                  ))
              : null}
          </li>
        );
      })}
    </ul>
  );
}
