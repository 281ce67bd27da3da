/** Every end of a publish says why (channel-log.ts), and webhook URLs change on a running core (webhooks.ts). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Webhooks } from '../../main/alerts/webhooks.js';
import { channelLog, StopCauses } from '../../main/channels/channel-log.js';
import { createLogger } from '../../main/lib/logger.js';

const log = createLogger('silent');

describe('stop causes', () => {
  it('the encoder, staff stopping or restarting, the appliance restarting for saved settings, a shutdown', async () => {
    const events: Array<{ entryId: string; code: string; message: string }> = [];
    const sink = {
      get: (entryId: string) => (entryId === 'gone' ? undefined : {}),
      addEvent: (entryId: string, _level: string, code: string, message: string) =>
        events.push({ entryId, code, message }),
    };
    const causes = new StopCauses();
    const record = channelLog(sink, log, causes);
    const stopped = (entryId: string) =>
      record(entryId, 'info', 'PUBLISH_STOPPED', 'primary ingest x_1 stopped');
    stopped('a');
    await causes.during('a', 'staff-stop', async () => {
      stopped('a');
      // Another channel's encoder leaving meanwhile is its own doing.
      stopped('b');
    });
    await causes.during('a', 'staff-restart', async () => stopped('a'));
    record('a', 'info', 'PUBLISH_STARTED', 'primary ingest x_1 started');
    causes.setAll('settings-saved');
    stopped('a');
    stopped('b');
    stopped('gone');
    expect(events.map((e) => e.message)).toEqual([
      'primary ingest x_1 stopped: the encoder closed the connection or stopped sending',
      'primary ingest x_1 stopped: staff stopped the channel',
      'primary ingest x_1 stopped: the encoder closed the connection or stopped sending',
      'primary ingest x_1 stopped: staff restarted the channel',
      'primary ingest x_1 started',
      'primary ingest x_1 stopped: the appliance restarted to apply saved settings',
      'primary ingest x_1 stopped: the appliance restarted to apply saved settings',
    ]);
    // The first cause set for all wins (a shutdown after a settings restart began stays "settings saved").
    causes.setAll('shutdown');
    expect(causes.of('a')).toBe('settings-saved');
  });
});

describe('webhook URLs applied live', () => {
  it('notifications go to the new URLs from now on; a bad URL is refused and the old ones stay', async () => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const w = new Webhooks({ urls: [`${base}/old`], secret: 'a-webhook-secret-0123456789', log });
      expect((await w.test()).map((r) => r.ok)).toEqual([true]);
      w.reconfigure([`${base}/new-1`, `${base}/new-2`]);
      expect((await w.test()).map((r) => r.ok)).toEqual([true, true]);
      expect(() => w.reconfigure(['ftp://x.example/'])).toThrow(/not http\(s\)/);
      await w.test();
      w.reconfigure([]);
      expect(w.enabled).toBe(false);
      expect(hits).toEqual(['/old', '/new-1', '/new-2', '/new-1', '/new-2']);
      await w.close();
      const unsigned = new Webhooks({ urls: [], secret: '', log });
      expect(() => unsigned.reconfigure([`${base}/x`])).toThrow(/ECDN_WEBHOOK_SECRET/);
    } finally {
      server.close();
    }
  });
});
