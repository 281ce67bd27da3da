/**
 * The partner binding, the server node heartbeat and the health beacons, against the Kaltura double (real HTTP
 * on loopback), with the double's clock moved instead of waiting.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { bindingProblemsTable, BINDING_PROBLEMS } from '../../main/partner/binding-problems.js';
import { HealthBeacons, type BeaconClient } from '../../main/partner/health-beacons.js';
import { checkBinding, KalturaPartner } from '../../main/partner/kaltura-partner.js';
import { KalturaClient } from '../../main/partner/kaltura/client.js';
import { ServerNodeReporter } from '../../main/partner/server-node.js';
import {
  ECDN_FEATURES,
  FakeKaltura,
  FEATURE_HYBRID_ECDN,
  FEATURE_SERVER_NODE,
  NODE_STATUS,
  SERVER_NODE_TTL_MS,
} from '../helpers/kaltura-server.js';
import fs from 'node:fs';
import path from 'node:path';

const SECRET = 'binding-secret-0123456789';
const NODE = 'ecdn-7.corp.example';
const log = createLogger('silent');

let fake: FakeKaltura;
let serviceUrl: string;

beforeAll(async () => {
  fake = new FakeKaltura({
    partners: [
      { id: 200, adminSecret: SECRET, name: 'Full', features: ECDN_FEATURES },
      { id: 201, adminSecret: SECRET, name: 'No eCDN', features: [FEATURE_SERVER_NODE] },
      { id: 202, adminSecret: SECRET, name: 'No nodes', features: [FEATURE_HYBRID_ECDN] },
    ],
    entries: [
      { id: '0_bindbind', partnerId: 200, token: 'tok', name: 'E' },
      { id: '0_nodenode', partnerId: 202, token: 'tok', name: 'N' },
    ],
  });
  serviceUrl = await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

const client = (partnerId: number, over: Partial<{ secret: string; url: string; node: string }> = {}) =>
  new KalturaClient({
    serviceUrl: over.url ?? serviceUrl,
    partnerId,
    adminSecret: over.secret ?? SECRET,
    timeoutMs: 2000,
    serverNodeName: over.node ?? NODE,
  });

describe('checkBinding tells the truth', () => {
  it('bound only with the Hybrid eCDN permission', async () => {
    expect(await checkBinding(client(200), 200)).toMatchObject({ ok: true, partnerId: 200, name: 'Full' });
    const r = await checkBinding(client(201), 201);
    expect(r).toMatchObject({ ok: false, code: 'PARTNER_FEATURE_MISSING' });
    if (r.ok) return;
    expect(r.message).toContain("the partner needs Kaltura's Hybrid eCDN feature (FEATURE_HYBRID_ECDN)");
    expect(r.fix).toMatch(/Hybrid eCDN Architecture.*201/);
  });

  it('a wrong secret, an unknown partner, an unreachable service and a non-API URL each say so', async () => {
    expect(await checkBinding(client(200, { secret: 'wrong-secret-xyz' }), 200)).toMatchObject({
      ok: false,
      code: 'WRONG_SECRET',
      message: expect.stringContaining('admin secret of partner 200'),
    });
    expect(await checkBinding(client(999), 999)).toMatchObject({ ok: false, code: 'UNKNOWN_PARTNER' });
    const gone = new FakeKaltura({ partners: [], entries: [] });
    const goneUrl = await gone.start();
    await gone.stop();
    expect(await checkBinding(client(200, { url: goneUrl }), 200)).toMatchObject({
      ok: false,
      code: 'SERVICE_UNREACHABLE',
      message: expect.stringContaining('could not reach'),
    });
    expect(await checkBinding(client(200, { url: `${serviceUrl}/kmc` }), 200)).toMatchObject({
      ok: false,
      code: 'SERVICE_NOT_KALTURA',
    });
  });
});

describe('the server node', () => {
  it('is created by reportStatus, kept fresh within 120 s, and reported not operational on stop', async () => {
    let clock = Date.now();
    fake.now = () => clock;
    const reporter = new ServerNodeReporter(client(200), {
      name: NODE,
      role: 'media',
      objectType: 'KalturaWowzaMediaServerNode',
      partnerId: 200,
      intervalMs: 40,
      log,
    });
    await reporter.start();
    try {
      expect(reporter.view()).toMatchObject({ name: NODE, state: 'active' });
      expect(fake.node(NODE)).toMatchObject({ type: 'wowza', partnerId: 200, status: NODE_STATUS.ACTIVE });
      expect(fake.isRegistered(NODE)).toBe(true);
      // The double's clock runs 100 s ahead at a time: without a new heartbeat the node would go stale.
      for (let i = 0; i < 3; i++) {
        const reports = fake.calls.filter((c) => c.action === 'reportStatus').length;
        clock += SERVER_NODE_TTL_MS - 20_000;
        await vi.waitFor(
          () => expect(fake.calls.filter((c) => c.action === 'reportStatus').length).toBeGreaterThan(reports),
          { timeout: 2000 },
        );
        expect(fake.isRegistered(NODE)).toBe(true);
      }
      expect(fake.serverNodes.filter((n) => n.hostName === NODE)).toHaveLength(1);
    } finally {
      await reporter.stop();
    }
    expect(fake.node(NODE)?.status).toBe(NODE_STATUS.NOT_OPERATIONAL);
    expect(fake.isRegistered(NODE)).toBe(false);
    expect(reporter.view().state).toBe('stopped');
    // No heartbeat after the stop.
    const after = fake.calls.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(fake.calls.length).toBe(after);
    fake.now = Date.now;
  });

  it('without FEATURE_SERVER_NODE the status says to create the node in the admin console, and how', async () => {
    const reporter = new ServerNodeReporter(client(202, { node: 'other-node.example' }), {
      name: 'other-node.example',
      role: 'media',
      objectType: 'KalturaWowzaMediaServerNode',
      partnerId: 202,
      log,
    });
    await reporter.start();
    await reporter.stop();
    expect(reporter.view()).toMatchObject({ state: 'stopped' });
    const r2 = new ServerNodeReporter(client(202, { node: 'other-node.example' }), {
      name: 'other-node.example',
      role: 'media',
      objectType: 'KalturaWowzaMediaServerNode',
      partnerId: 202,
      log,
    });
    await r2.start();
    const v = r2.view();
    await r2.stop();
    expect(v).toMatchObject({ state: 'unmanaged', code: 'NODE_FEATURE_MISSING' });
    expect(v.message).toContain('FEATURE_SERVER_NODE');
    expect(BINDING_PROBLEMS.NODE_FEATURE_MISSING.fix).toMatch(/admin console \(Server nodes → Add\)/);
  });
});

describe('KalturaPartner', () => {
  it('shows bound, then failed with SERVER_NODE_MISSING when a publish meets MEDIA_SERVER_NOT_FOUND', async () => {
    const name = 'unknown-node.example';
    const partner = new KalturaPartner(client(202, { node: name }), {
      partnerId: 202,
      impersonation: false,
      authGraceMs: 0,
      log,
      serverNode: new ServerNodeReporter(client(202, { node: name }), {
        name,
        role: 'media',
        objectType: 'KalturaWowzaMediaServerNode',
        partnerId: 202,
        log,
      }),
    });
    partner.start();
    try {
      await vi.waitFor(() => expect(partner.status.state).toBe('bound'), { timeout: 3000 });
      expect(partner.status.serverNode).toMatchObject({ name, state: 'unmanaged' });
      const req = {
        partnerId: 202,
        entryId: '0_nodenode',
        token: 'tok',
        serverIndex: 0 as const,
        hostname: name,
      };
      await expect(partner.authenticate(req)).rejects.toMatchObject({ code: 'MEDIA_SERVER_NOT_FOUND' });
      expect(partner.status).toMatchObject({
        state: 'failed',
        code: 'SERVER_NODE_MISSING',
        message: expect.stringContaining(`no media server node named "${name}"`),
        fix: expect.stringContaining('Server nodes → Add'),
      });
      // Created in the admin console: the next publish goes through and the binding is bound again.
      fake.addServerNode({ hostName: name, partnerId: 202 });
      expect((await partner.authenticate(req)).id).toBe('0_nodenode');
      expect(partner.status).toMatchObject({ state: 'bound' });
      expect(partner.status.code).toBeUndefined();
    } finally {
      await partner.stop();
    }
  });
});

describe('health beacons', () => {
  it('one per entry, index and problem a minute; a bounded number overall; never a token', async () => {
    const sent: Array<{ objectId: string; eventType: string; privateData: string }> = [];
    const beaconClient: BeaconClient = {
      addBeacon: async (b) => {
        sent.push(b);
      },
    };
    let now = 1_000_000;
    const beacons = new HealthBeacons(beaconClient, { log, now: () => now, perMinute: 5 });
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 0, code: 'LIVE_STREAM_INVALID_TOKEN' })).toBe(
      true,
    );
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 0, code: 'LIVE_STREAM_INVALID_TOKEN' })).toBe(
      false,
    );
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 1, code: 'LIVE_STREAM_INVALID_TOKEN' })).toBe(
      true,
    );
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 0, code: 'CONNECTION_BLOCKED' })).toBe(false);
    await new Promise((r) => setImmediate(r));
    now += 60_000;
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 0, code: 'LIVE_STREAM_INVALID_TOKEN' })).toBe(
      true,
    );
    for (let i = 0; i < 10; i++)
      beacons.report({ entryId: `0_bbbbbbb${i}`, serverIndex: 0, code: 'ENTRY_ID_NOT_FOUND' });
    await new Promise((r) => setImmediate(r));
    expect(sent.length).toBe(2 + 5);
    expect(sent[0]).toMatchObject({ objectId: '0_aaaaaaaa', eventType: '0_healthData' });
    expect(sent.map((b) => b.objectId).filter((id) => id.startsWith('0_bbbbbbb'))).toHaveLength(4);
    expect(sent[1]?.eventType).toBe('1_healthData');
    const data = JSON.parse(sent[0]?.privateData ?? '{}') as {
      alerts: Array<{ Arguments: Record<string, string>; Code: number; Time: number }>;
      maxSeverity: number;
    };
    expect(data).toMatchObject({
      alerts: [{ Arguments: { entryId: '0_aaaaaaaa', alertType: 'LIVE_STREAM_INVALID_TOKEN' }, Code: 111 }],
      maxSeverity: 4,
    });
  });

  it('a failing service never throws to the caller', async () => {
    const beacons = new HealthBeacons({ addBeacon: () => Promise.reject(new Error('down')) }, { log });
    expect(beacons.report({ entryId: '0_aaaaaaaa', serverIndex: 0, code: 'TRANSCODER_FAILED' })).toBe(true);
    await new Promise((r) => setImmediate(r));
  });
});

describe('the eCDN troubleshooting table', () => {
  it('is in the README, row for row', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(bindingProblemsTable());
  });
});
