/**
 * The edge server node: ServerNodeReporter with role `edge` (KalturaEdgeServerNode, playbackDomain, parentId) through
 * the real Kaltura client against the Kaltura double, which validates it as kaltura/server does.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { KalturaClient } from '../../main/partner/kaltura/client.js';
import { ServerNodeReporter } from '../../main/partner/server-node.js';
import { ECDN_FEATURES, FakeKaltura } from '../helpers/kaltura-server.js';

const SECRET = 'edge-node-secret-0123456789abcdef';

async function withFake(body: (f: FakeKaltura, client: KalturaClient) => Promise<void>): Promise<void> {
  const f = new FakeKaltura({
    partners: [{ id: 102, adminSecret: SECRET, name: 'Acme', features: ECDN_FEATURES }],
    entries: [],
  });
  const url = await f.start();
  try {
    await body(
      f,
      new KalturaClient({
        serviceUrl: url,
        partnerId: 102,
        adminSecret: SECRET,
        timeoutMs: 2000,
        serverNodeName: 'media.example',
      }),
    );
  } finally {
    await f.stop();
  }
}

const edgeReporter = (client: KalturaClient, name: string, fields: Record<string, unknown>) =>
  new ServerNodeReporter(client, {
    name,
    role: 'edge',
    objectType: 'KalturaEdgeServerNode',
    fields,
    partnerId: 102,
    intervalMs: 60_000,
    log: createLogger('silent'),
  });

describe('the edge server node at Kaltura', () => {
  it('is created by reportStatus with its playback domain, kept alive, and used with its parent', async () => {
    await withFake(async (f, client) => {
      const parent = edgeReporter(client, 'kes-hq.example', { playbackDomain: 'kes-hq.example:8080' });
      await parent.start();
      const parentId = parent.view().id as number;
      expect(f.node('kes-hq.example', 'edge')).toMatchObject({
        fields: { playbackDomain: 'kes-hq.example:8080' },
      });
      const child = edgeReporter(client, 'kes-floor2.example', {
        playbackDomain: '10.2.0.5:8080',
        parentId: String(parentId),
        // Not a property of KalturaEdgeServerNode: the API ignores it.
        playbackHostName: 'ignored.example',
      });
      await child.start();
      expect(child.view()).toMatchObject({ role: 'edge', state: 'active' });
      const node = f.node('kes-floor2.example', 'edge');
      expect(node?.fields).toEqual({ playbackDomain: '10.2.0.5:8080', parentId: String(parentId) });
      expect(f.edgeServes('kes-floor2.example')).toBe(true);
      // A parent that stops heartbeating takes its children out of routing.
      await parent.stop();
      expect(f.edgeServes('kes-floor2.example')).toBe(false);
      await child.stop();
    });
  });

  it('is refused with a parent Kaltura does not know', async () => {
    await withFake(async (f, client) => {
      const r = edgeReporter(client, 'kes-orphan.example', { playbackDomain: 'x.example', parentId: '999' });
      await r.start();
      expect(r.view()).toMatchObject({ state: 'failed', code: 'SERVER_NODE_REFUSED' });
      expect(r.view().message).toMatch(/SERVER_NODE_PROVIDED_AS_PARENT_NOT_FOUND/);
      expect(f.node('kes-orphan.example', 'edge')).toBeUndefined();
      await r.stop();
    });
  });
});
