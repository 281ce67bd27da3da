import { useControlEvents, useDebounced, useResource } from '../../api/hooks.js';
import { formatDateTime } from '../../format.js';

/**
 * "Refused publishes": encoders that tried to publish to no channel here (the broadcast URL without its stream
 * name, an entry id from elsewhere), each with what to do; shown only when there are some, updated live.
 */
export function RefusedPublishes() {
  const r = useResource('ingest.refusals', undefined, 'refusals');
  const refetch = useDebounced(r.reload, 300);
  useControlEvents((e) => {
    if (e.type === 'refusals.changed') refetch();
  });
  const rows = r.data?.refusals ?? [];
  if (rows.length === 0) return null;
  return (
    <section className="card refused-publishes" aria-labelledby="refused-h" data-testid="refused-publishes">
      <h2 id="refused-h">Refused publishes</h2>
      <p className="muted small">Encoders that tried to publish to no channel of this appliance.</p>
      <ul>
        {rows.map((x) => (
          <li
            key={`${x.remote} ${x.code} ${x.entryId ?? ''} ${x.streamName}`}
            data-testid="refused-publish"
            data-code={x.code}
          >
            <strong>{x.remote}</strong> · <code>{x.code}</code>
            {x.count > 1 ? ` ×${x.count}` : ''} · last {formatDateTime(x.lastAt)}
            <br />
            {x.message}
            <br />
            <span className="hint">{x.hint}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
