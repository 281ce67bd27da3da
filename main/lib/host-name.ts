/** Host names in URLs: an IPv6 address goes in brackets (`[::1]`), once. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
