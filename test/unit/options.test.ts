import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOptions, OPTION_SPECS, OptionsError } from '../../main/app/options.js';
import { optionsTable } from '../../main/app/options-table.js';

describe('options', () => {
  it('has defaults for everything the issue names', () => {
    const o = loadOptions([], {});
    expect(o).toMatchObject({
      bind: '0.0.0.0',
      rtmpPort: 1935,
      httpPort: 8080,
      adminPort: 8081,
      partnerId: 1,
      fragmentDuration: 2,
      dvrWindow: 30,
    });
    expect(o.adminToken).toBeUndefined();
  });

  it('takes flags over environment variables over defaults', () => {
    const o = loadOptions(['--rtmp-port', '1936', '--data-dir', 'rel/dir'], {
      ECDN_RTMP_PORT: '1999',
      ECDN_HTTP_PORT: '9090',
      ECDN_ADMIN_TOKEN: 'from-env-0123456789',
    });
    expect(o.rtmpPort).toBe(1936);
    expect(o.httpPort).toBe(9090);
    expect(o.adminToken).toBe('from-env-0123456789');
    expect(path.isAbsolute(o.dataDir)).toBe(true);
  });

  it('names the flag and variable of a bad value', () => {
    expect(() => loadOptions(['--http-port', '70000'], {})).toThrow(/--http-port \/ ECDN_HTTP_PORT/);
    expect(() => loadOptions(['--admin-token', 'short'], {})).toThrow(/at least 16 characters/);
    expect(() => loadOptions(['--bogus', 'x'], {})).toThrow(OptionsError);
  });

  it('signs webhooks: URLs need the secret (environment only), and only http(s) URLs', () => {
    expect(() => loadOptions(['--webhook-url', 'https://hooks.example.com/a'], {})).toThrow(
      /ECDN_WEBHOOK_SECRET/,
    );
    expect(() =>
      loadOptions(['--webhook-url', 'ftp://hooks.example.com/a'], { ECDN_WEBHOOK_SECRET: 'x'.repeat(20) }),
    ).toThrow(/not http/);
    const o = loadOptions(['--webhook-url', 'https://a.example/x, http://b.example/y'], {
      ECDN_WEBHOOK_SECRET: 'x'.repeat(20),
    });
    expect(o.webhookUrl).toContain('b.example');
    expect(() => loadOptions(['--webhook-secret', 'x'.repeat(20)], {})).toThrow();
  });

  it('is documented in the README, row for row', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(optionsTable());
    for (const s of OPTION_SPECS) expect(readme).toContain(s.flag ? `\`${s.flag}\`` : `\`${s.env}\``);
  });
});
