/** Host names in URLs: an IPv6 address goes in brackets (`[::1]`), once. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Whether `bind` is every address (`0.0.0.0`, `::`) rather than one. */
function bindsEverywhere(bind: string): boolean {
  return bind === '0.0.0.0' || bind === '::';
}

/**
 * The address the appliance reaches its own listeners at (its transcoders pulling from the ingest, the SRT relay,
 * push targets reading the origin): loopback when they listen on every address, else the one they listen on
 * (`--bind`), where loopback would find nothing.
 */
export function ownAddress(bind: string): string {
  return bindsEverywhere(bind) ? '127.0.0.1' : bind;
}

/**
 * Whether a connection's peer address is this machine reaching its own listeners: loopback, or the one address
 * they listen on (a connection to it from this machine comes from it).
 */
export function isOwnAddress(remote: string | undefined, bind: string): boolean {
  if (remote === undefined) return false;
  const a = remote.replace(/^::ffff:/i, '');
  if (/^127\./.test(a) || a === '::1') return true;
  return !bindsEverywhere(bind) && a.toLowerCase() === bind.replace(/^::ffff:/i, '').toLowerCase();
}
