import { describe, expect, it } from 'vitest';
import { isPrivateAddress, parseEdgeOrigin, parseEdgeOrigins } from '../../main/edge/edge-origins.js';

describe('edge origins (--edge-origins)', () => {
  it('fetches host[:port] over https and http://host[:port] over http', () => {
    expect(parseEdgeOrigin('cdnapisec.kaltura.com')).toMatchObject({
      key: 'cdnapisec.kaltura.com',
      scheme: 'https',
      port: 443,
      literal: false,
    });
    expect(parseEdgeOrigin('CDN.example.com:8443')).toMatchObject({
      key: 'cdn.example.com:8443',
      port: 8443,
    });
    expect(parseEdgeOrigin('http://10.0.0.7:8080')).toMatchObject({
      key: '10.0.0.7:8080',
      scheme: 'http',
      host: '10.0.0.7',
      literal: true,
    });
    expect(parseEdgeOrigin('http://parent.lan')).toMatchObject({ key: 'parent.lan', port: 80 });
    expect(parseEdgeOrigin('https://x.example.com/')).toMatchObject({
      key: 'x.example.com',
      scheme: 'https',
    });
    expect(parseEdgeOrigin('http://[::1]:8080')).toMatchObject({ key: '[::1]:8080', host: '::1' });
  });

  it('refuses anything that is not a host and port', () => {
    for (const bad of [
      'ftp://x.example.com',
      'x.example.com/path',
      'user@x.example.com',
      'x.example.com:0',
      'x.example.com:99999',
      '::1',
      'http://',
      'a b',
      'x.example.com?q',
    ])
      expect(() => parseEdgeOrigin(bad), bad).toThrow(/not an edge origin/);
  });

  it('is off when empty, and finds only what is listed', () => {
    expect(parseEdgeOrigins('').enabled).toBe(false);
    expect(parseEdgeOrigins(' , ').enabled).toBe(false);
    const list = parseEdgeOrigins('cdn.example.com, http://127.0.0.1:8080');
    expect(list.enabled).toBe(true);
    expect(list.find('CDN.example.com')?.scheme).toBe('https');
    expect(list.find('127.0.0.1:8080')?.scheme).toBe('http');
    expect(list.find('127.0.0.1')).toBeUndefined();
    expect(list.find('127.0.0.1:8081')).toBeUndefined();
    expect(list.find('evil.example.com')).toBeUndefined();
    // Absolute URLs: same scheme, host and port.
    expect(list.forUrl(new URL('https://cdn.example.com/a/b.ts'))?.key).toBe('cdn.example.com');
    expect(list.forUrl(new URL('https://cdn.example.com:443/a'))?.key).toBe('cdn.example.com');
    expect(list.forUrl(new URL('http://cdn.example.com/a'))).toBeUndefined();
    expect(list.forUrl(new URL('http://127.0.0.1:8080/a'))?.key).toBe('127.0.0.1:8080');
    expect(list.forUrl(new URL('https://127.0.0.1:8080/a'))).toBeUndefined();
  });

  it('prefers https when a host is listed both ways', () => {
    const list = parseEdgeOrigins('http://cdn.example.com:8080, cdn.example.com:8080');
    expect(list.find('cdn.example.com:8080')?.scheme).toBe('https');
  });

  it('knows private and loopback addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '172.20.0.1',
      '169.254.169.254',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700::1111'])
      expect(isPrivateAddress(a), a).toBe(false);
  });
});
