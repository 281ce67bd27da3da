/** Address allow lists ("127.0.0.1, ::1, 10.0.0.0/8, 192.168.1.10-192.168.1.20"), matched with node's BlockList. */
import net from 'node:net';

export class AllowListError extends Error {
  readonly code = 'INVALID_ALLOW_LIST';
}

export interface AllowList {
  /** True when the list is empty (everyone) or holds the address. */
  allows(address: string | undefined): boolean;
  readonly any: boolean;
  readonly text: string;
}

/** One entry: an address, `addr/prefix`, or `first-last`; IPv4 or IPv6. */
function addEntry(list: net.BlockList, entry: string): void {
  const family = (a: string) => {
    const v = net.isIP(a);
    if (v === 0) throw new AllowListError(`not an IP address: ${JSON.stringify(a)}`);
    return v === 4 ? 'ipv4' : 'ipv6';
  };
  const slash = entry.indexOf('/');
  const dash = entry.indexOf('-');
  if (slash !== -1) {
    const addr = entry.slice(0, slash);
    const prefix = Number(entry.slice(slash + 1));
    const f = family(addr);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (f === 'ipv4' ? 32 : 128)) {
      throw new AllowListError(`bad prefix length in ${JSON.stringify(entry)}`);
    }
    list.addSubnet(addr, prefix, f);
  } else if (dash !== -1) {
    const first = entry.slice(0, dash);
    const last = entry.slice(dash + 1);
    const f = family(first);
    if (family(last) !== f) throw new AllowListError(`range ${JSON.stringify(entry)} mixes IPv4 and IPv6`);
    try {
      list.addRange(first, last, f);
    } catch {
      throw new AllowListError(`range ${JSON.stringify(entry)} ends before it starts`);
    }
  } else {
    list.addAddress(entry, family(entry));
  }
}

/** Parses a comma-separated list; an empty text allows every address. */
export function parseAllowList(text: string): AllowList {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const list = new net.BlockList();
  for (const e of entries) addEntry(list, e);
  return {
    any: entries.length === 0,
    text: entries.join(', '),
    allows(address) {
      if (entries.length === 0) return true;
      if (!address) return false;
      const a = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
      const v = net.isIP(a);
      return v !== 0 && list.check(a, v === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
