/** Host names in URLs, and the address the appliance reaches itself at (main/lib/host-name.ts). */
import { describe, expect, it } from 'vitest';
import { bracketHost, isOwnAddress, ownAddress } from '../../main/lib/host-name.js';

describe('host names', () => {
  it('brackets an IPv6 address once', () => {
    expect(bracketHost('::1')).toBe('[::1]');
    expect(bracketHost('[::1]')).toBe('[::1]');
    expect(bracketHost('10.0.0.5')).toBe('10.0.0.5');
  });

  it('reaches its own listeners over loopback when they listen everywhere, else at the one address', () => {
    expect(ownAddress('0.0.0.0')).toBe('127.0.0.1');
    expect(ownAddress('::')).toBe('127.0.0.1');
    expect(ownAddress('192.168.1.10')).toBe('192.168.1.10');
    expect(ownAddress('fd00::2')).toBe('fd00::2');
  });

  it('tells its own connections: loopback, or from the one address it listens on', () => {
    for (const bind of ['0.0.0.0', '192.168.1.10'])
      for (const remote of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1'])
        expect(isOwnAddress(remote, bind)).toBe(true);
    expect(isOwnAddress('192.168.1.10', '192.168.1.10')).toBe(true);
    expect(isOwnAddress('::ffff:192.168.1.10', '192.168.1.10')).toBe(true);
    expect(isOwnAddress('FD00::2', 'fd00::2')).toBe(true);
    // Another machine, or any address when the listeners are everywhere (it cannot be told from a peer's).
    expect(isOwnAddress('192.168.1.11', '192.168.1.10')).toBe(false);
    expect(isOwnAddress('192.168.1.10', '0.0.0.0')).toBe(false);
    expect(isOwnAddress(undefined, '192.168.1.10')).toBe(false);
  });
});
