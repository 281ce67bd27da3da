import type { EdgeView } from '@contract';
import { useState } from 'react';
import { useControlEvents, useResource, useResync } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { formatBytes, formatTime } from '../../format.js';
import { EdgeHostTable } from './EdgeHostTable.js';

/**
 * The edge (Kaltura's KES role, `/kCache/` on the origin listener): per origin host, requests, hit ratio, bytes
 * from upstream and served, the WAN saving and the viewers pulling through it; the disk cache and the edge server
 * node at Kaltura. Fetched once, then kept current by `edge.statistics` events (every couple of seconds).
 */
export function EdgePage() {
  const resync = useResync();
  const fetched = useResource('edge.get', undefined, `edge-${resync}`);
  const [pushed, setPushed] = useState<EdgeView | null>(null);
  useControlEvents((e) => {
    if (e.type === 'edge.statistics') setPushed(e.edge);
  });
  const edge = newest(fetched.data, pushed);
  return (
    <div className="page edge-page">
      <h1>Edge</h1>
      <Progress text={fetched.loading && !edge ? 'Loading the edge…' : null} />
      <ErrorAlert error={fetched.error} action="Could not load the edge" />
      {edge ? <EdgeSummary edge={edge} /> : null}
    </div>
  );
}

function newest(a: EdgeView | null, b: EdgeView | null): EdgeView | null {
  if (!a || !b) return a ?? b;
  return Date.parse(b.at) >= Date.parse(a.at) ? b : a;
}

function EdgeSummary({ edge }: { edge: EdgeView }) {
  if (!edge.enabled)
    return (
      <section className="card" aria-labelledby="edge-off-h">
        <h2 id="edge-off-h">The edge is off</h2>
        <p data-testid="edge-off">
          Start the appliance with <code>--edge-origins</code> (the origin hosts it may fetch from) to answer{' '}
          <code>/kCache/&lt;origin-host&gt;/…</code> on the origin listener.
        </p>
      </section>
    );
  const totals = edge.hosts.reduce(
    (t, h) => ({
      requests: t.requests + h.requests,
      served: t.served + h.bytesServed,
      upstream: t.upstream + h.bytesFromUpstream,
      viewers: t.viewers + h.viewers,
    }),
    { requests: 0, served: 0, upstream: 0, viewers: 0 },
  );
  const saving = totals.served > 0 ? Math.max(0, 100 * (1 - totals.upstream / totals.served)) : 0;
  const usedPercent = edge.cache.maxBytes > 0 ? (100 * edge.cache.bytes) / edge.cache.maxBytes : 0;
  return (
    <>
      <section className="card" aria-labelledby="edge-now-h">
        <h2 id="edge-now-h">Now</h2>
        <dl className="stat-tiles">
          <div>
            <dt>Viewers pulling</dt>
            <dd data-testid="edge-viewers">{totals.viewers}</dd>
          </div>
          <div>
            <dt>WAN saving</dt>
            <dd data-testid="edge-saving">{saving.toFixed(1)} %</dd>
          </div>
          <div>
            <dt>Served</dt>
            <dd data-testid="edge-served">{formatBytes(totals.served)}</dd>
          </div>
          <div>
            <dt>From upstream</dt>
            <dd data-testid="edge-upstream">{formatBytes(totals.upstream)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd data-testid="edge-updated">{formatTime(edge.at)}</dd>
          </div>
        </dl>
        <p className="muted small">
          Disk cache {formatBytes(edge.cache.bytes)} of {formatBytes(edge.cache.maxBytes)} (
          {usedPercent.toFixed(0)} %, {edge.cache.objects} objects) · {edge.refused} requests refused (hosts
          not allowed) · allowed: {edge.origins.join(', ')}
        </p>
      </section>
      <section className="card" aria-labelledby="edge-hosts-h">
        <h2 id="edge-hosts-h">Per origin host</h2>
        <EdgeHostTable hosts={edge.hosts} />
      </section>
      {edge.node ? (
        <section className="card" aria-labelledby="edge-node-h">
          <h2 id="edge-node-h">Edge server node at Kaltura</h2>
          <p data-testid="edge-node">
            <strong>{edge.node.name}</strong> · {edge.node.state}
            {edge.node.id !== undefined ? ` · id ${edge.node.id}` : ''}
            {edge.node.lastReportAt ? ` · last heartbeat ${formatTime(edge.node.lastReportAt)}` : ''}
          </p>
          {edge.node.message ? <p className="muted small">{edge.node.message}</p> : null}
          {edge.node.fix ? <p className="muted small">{edge.node.fix}</p> : null}
        </section>
      ) : null}
    </>
  );
}
