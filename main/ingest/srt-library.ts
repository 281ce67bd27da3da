/**
 * libsrt (Haivision's SRT library, the one Debian's ffmpeg links) called through koffi, a maintained FFI with
 * prebuilt binaries in its npm package: no compiler and no download at install. Only what a listener needs.
 * Loaded in the SRT child process only (a fault in native code takes down that child, not the core).
 */
import koffi, { type LibraryHandle } from 'koffi';

/** SRT_SOCKOPT values (srt.h, libsrt 1.4 and 1.5). */
export const SRTO = {
  RCVSYN: 2,
  LATENCY: 23,
  PASSPHRASE: 26,
  RCVLATENCY: 43,
  STREAMID: 46,
} as const;

export const SRTS_CONNECTED = 5;
export const SRT_EPOLL_IN = 0x1;
export const SRT_EPOLL_ERR = 0x8;
/** SRT_REJECT_REASON values this ingest tells apart. */
export const SRT_REJ = { UNKNOWN: 0, BADSECRET: 10, UNSECURE: 11, TIMEOUT: 16 } as const;
/** Application rejection codes (access_control.h): SRT_REJX_*. */
export const SRT_REJX = {
  BAD_REQUEST: 1400,
  UNAUTHORIZED: 1401,
  OVERLOAD: 1402,
  FORBIDDEN: 1403,
  NOTFOUND: 1404,
  UNACCEPTABLE: 1406,
} as const;
/** SRT_LOG_ERR (syslog's LOG_ERR): libsrt writes only errors to stderr. */
const LOG_ERR = 3;

export interface SrtStatsRecord {
  pktRecvTotal: number;
  pktRcvLossTotal: number;
  pktRcvRetrans: number;
  pktRcvDropTotal: number;
  mbpsRecvRate: number;
  msRTT: number;
  mbpsBandwidth: number;
  msRcvTsbPdDelay: number;
}

export type ListenCallback = (socket: number, peer: Buffer, streamId: string) => number;

export interface SrtLibrary {
  createSocket(): number;
  setInt(socket: number, option: number, value: number): boolean;
  setString(socket: number, option: number, value: string): boolean;
  bind(socket: number, address: Buffer): boolean;
  listen(socket: number, backlog: number): boolean;
  /** Installs the listen callback (called on libsrt's thread, run on the JS thread by koffi). */
  onListen(socket: number, cb: ListenCallback): void;
  accept(socket: number): { socket: number; peer: Buffer };
  /** The port a socket is bound to (after binding port 0). */
  localPort(socket: number): number;
  /** Non-blocking read: bytes read, 0 when nothing is waiting, -1 when the connection is over. */
  recv(socket: number, buf: Buffer): number;
  close(socket: number): void;
  rejectReason(socket: number): number;
  /** SRT_SOCKSTATUS: 5 connected (an accepted caller not yet taken), 6+ broken, closing, closed, gone. */
  state(socket: number): number;
  rejectReasonText(reason: number): string;
  setRejectReason(socket: number, code: number): void;
  stats(socket: number): SrtStatsRecord | undefined;
  epollCreate(): number;
  epollAdd(eid: number, socket: number, events: number): void;
  epollRemove(eid: number, socket: number): void;
  /** Waits up to `ms` on a worker thread; the ready sockets and their events. */
  epollWait(eid: number, ms: number): Promise<Array<{ fd: number; events: number }>>;
  lastError(): string;
}

/** Opens libsrt; throws with a plain reason if it cannot be loaded. */
export function loadSrtLibrary(name = 'libsrt-gnutls.so.1.5'): SrtLibrary {
  const candidates = [name, 'libsrt-gnutls.so.1.5', 'libsrt-openssl.so.1.5', 'libsrt.so.1.5', 'libsrt.so'];
  let lib: LibraryHandle | undefined;
  const errors: string[] = [];
  for (const c of [...new Set(candidates)]) {
    try {
      lib = koffi.load(c);
      break;
    } catch (err) {
      errors.push(`${c}: ${(err as Error).message}`);
    }
  }
  if (!lib) throw new Error(`libsrt is not installed (apt-get install libsrt1.5-gnutls): ${errors[0] ?? ''}`);

  const EpollEvent = koffi.struct('SRT_EPOLL_EVENT', { fd: 'int', events: 'int' });
  const Stats = koffi.struct('SRT_TRACEBSTATS', {
    msTimeStamp: 'int64_t',
    pktSentTotal: 'int64_t',
    pktRecvTotal: 'int64_t',
    pktSndLossTotal: 'int',
    pktRcvLossTotal: 'int',
    pktRetransTotal: 'int',
    pktSentACKTotal: 'int',
    pktRecvACKTotal: 'int',
    pktSentNAKTotal: 'int',
    pktRecvNAKTotal: 'int',
    usSndDurationTotal: 'int64_t',
    pktSndDropTotal: 'int',
    pktRcvDropTotal: 'int',
    pktRcvUndecryptTotal: 'int',
    byteSentTotal: 'uint64_t',
    byteRecvTotal: 'uint64_t',
    byteRcvLossTotal: 'uint64_t',
    byteRetransTotal: 'uint64_t',
    byteSndDropTotal: 'uint64_t',
    byteRcvDropTotal: 'uint64_t',
    byteRcvUndecryptTotal: 'uint64_t',
    pktSent: 'int64_t',
    pktRecv: 'int64_t',
    pktSndLoss: 'int',
    pktRcvLoss: 'int',
    pktRetrans: 'int',
    pktRcvRetrans: 'int',
    pktSentACK: 'int',
    pktRecvACK: 'int',
    pktSentNAK: 'int',
    pktRecvNAK: 'int',
    mbpsSendRate: 'double',
    mbpsRecvRate: 'double',
    usSndDuration: 'int64_t',
    pktReorderDistance: 'int',
    pktRcvAvgBelatedTime: 'double',
    pktRcvBelated: 'int64_t',
    pktSndDrop: 'int',
    pktRcvDrop: 'int',
    pktRcvUndecrypt: 'int',
    byteSent: 'uint64_t',
    byteRecv: 'uint64_t',
    byteRcvLoss: 'uint64_t',
    byteRetrans: 'uint64_t',
    byteSndDrop: 'uint64_t',
    byteRcvDrop: 'uint64_t',
    byteRcvUndecrypt: 'uint64_t',
    usPktSndPeriod: 'double',
    pktFlowWindow: 'int',
    pktCongestionWindow: 'int',
    pktFlightSize: 'int',
    msRTT: 'double',
    mbpsBandwidth: 'double',
    byteAvailSndBuf: 'int',
    byteAvailRcvBuf: 'int',
    mbpsMaxBW: 'double',
    byteMSS: 'int',
    pktSndBuf: 'int',
    byteSndBuf: 'int',
    msSndBuf: 'int',
    msSndTsbPdDelay: 'int',
    pktRcvBuf: 'int',
    byteRcvBuf: 'int',
    msRcvBuf: 'int',
    msRcvTsbPdDelay: 'int',
    // libsrt 1.5 appends more counters; room for them so a newer library never writes past this buffer.
    reserved: koffi.array('uint8_t', 512),
  });
  const ListenProto = koffi.proto(
    'int SrtListenCallback(void *opaque, int ns, int hsversion, const uint8_t *peer, const char *streamid)',
  );

  const f = {
    startup: lib.func('int srt_startup()'),
    setloglevel: lib.func('void srt_setloglevel(int ll)'),
    create: lib.func('int srt_create_socket()'),
    setflag: lib.func('int srt_setsockflag(int u, int opt, const void *optval, int optlen)'),
    bind: lib.func('int srt_bind(int u, const uint8_t *name, int namelen)'),
    listen: lib.func('int srt_listen(int u, int backlog)'),
    listenCallback: lib.func('int srt_listen_callback(int lsn, SrtListenCallback *fn, void *opaque)'),
    accept: lib.func('int srt_accept(int u, _Out_ uint8_t *addr, _Inout_ int *addrlen)'),
    getsockname: lib.func('int srt_getsockname(int u, _Out_ uint8_t *name, _Inout_ int *namelen)'),
    recvmsg: lib.func('int srt_recvmsg(int u, _Out_ uint8_t *buf, int len)'),
    close: lib.func('int srt_close(int u)'),
    getsockstate: lib.func('int srt_getsockstate(int u)'),
    getrejectreason: lib.func('int srt_getrejectreason(int u)'),
    setrejectreason: lib.func('int srt_setrejectreason(int u, int value)'),
    rejectreasonStr: lib.func('const char *srt_rejectreason_str(int id)'),
    bistats: lib.func('int srt_bistats(int u, _Out_ SRT_TRACEBSTATS *perf, int clear, int instantaneous)'),
    epollCreate: lib.func('int srt_epoll_create()'),
    epollAdd: lib.func('int srt_epoll_add_usock(int eid, int u, const int *events)'),
    epollRemove: lib.func('int srt_epoll_remove_usock(int eid, int u)'),
    epollUwait: lib.func('int srt_epoll_uwait(int eid, _Out_ SRT_EPOLL_EVENT *fds, int n, int64_t ms)'),
    lasterror: lib.func('const char *srt_getlasterror_str()'),
    lasterrorCode: lib.func('int srt_getlasterror(void *errnoLoc)'),
  };
  f.startup();
  f.setloglevel(LOG_ERR);
  // Registered by name for the prototypes above.
  void [EpollEvent, Stats];
  /** SRT_EASYNCRCV: nothing to read right now on a non-blocking socket. */
  const EASYNCRCV = 6002;
  const intBuf = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return b;
  };
  const callbacks: unknown[] = [];

  return {
    createSocket: () => f.create() as number,
    setInt: (s, opt, v) => f.setflag(s, opt, intBuf(v), 4) === 0,
    setString: (s, opt, v) => {
      const b = Buffer.from(v, 'utf8');
      return f.setflag(s, opt, b, b.length) === 0;
    },
    bind: (s, addr) => f.bind(s, addr, addr.length) === 0,
    listen: (s, backlog) => f.listen(s, backlog) === 0,
    onListen: (s, cb) => {
      const registered = koffi.register(
        (_opaque: unknown, ns: number, _hs: number, peer: unknown, streamId: string | null) => {
          const peerBytes = Buffer.from(koffi.decode(peer, koffi.array('uint8_t', 28)) as number[]);
          return cb(ns, peerBytes, streamId ?? '');
        },
        koffi.pointer(ListenProto),
      );
      callbacks.push(registered);
      if (f.listenCallback(s, registered, null) !== 0)
        throw new Error(`srt_listen_callback: ${f.lasterror()}`);
    },
    accept: (s) => {
      const peer = Buffer.alloc(128);
      const len = [128];
      const ns = f.accept(s, peer, len) as number;
      return { socket: ns, peer };
    },
    localPort: (s) => {
      const name = Buffer.alloc(128);
      return f.getsockname(s, name, [128]) === 0 ? name.readUInt16BE(2) : 0;
    },
    recv: (s, buf) => {
      const n = f.recvmsg(s, buf, buf.length) as number;
      if (n >= 0) return n;
      return f.lasterrorCode(null) === EASYNCRCV ? 0 : -1;
    },
    close: (s) => void f.close(s),
    rejectReason: (s) => f.getrejectreason(s) as number,
    state: (s) => f.getsockstate(s) as number,
    rejectReasonText: (r) => (f.rejectreasonStr(r) as string | null) ?? `reason ${r}`,
    setRejectReason: (s, code) => void f.setrejectreason(s, code),
    stats: (s) => {
      const out: Record<string, unknown> = {};
      if (f.bistats(s, out, 0, 1) !== 0) return undefined;
      return out as unknown as SrtStatsRecord;
    },
    epollCreate: () => f.epollCreate() as number,
    epollAdd: (eid, s, events) => void f.epollAdd(eid, s, intBuf(events)),
    epollRemove: (eid, s) => void f.epollRemove(eid, s),
    epollWait: (eid, ms) =>
      new Promise((resolve, reject) => {
        const events = Array.from({ length: 16 }, () => ({ fd: 0, events: 0 }));
        f.epollUwait.async(eid, events, events.length, ms, (err: unknown, n: number) => {
          if (err) reject(err as Error);
          else resolve(n > 0 ? events.slice(0, n) : []);
        });
      }),
    lastError: () => f.lasterror() as string,
  };
}

/** A sockaddr_in / sockaddr_in6 (Linux layout) for `address:port`. */
export function socketAddress(address: string, port: number): Buffer {
  if (address.includes(':')) {
    const b = Buffer.alloc(28);
    b.writeUInt16LE(10, 0); // AF_INET6
    b.writeUInt16BE(port, 2);
    const groups = expandIpv6(address);
    groups.forEach((g, i) => b.writeUInt16BE(g, 8 + i * 2));
    return b;
  }
  const b = Buffer.alloc(16);
  b.writeUInt16LE(2, 0); // AF_INET
  b.writeUInt16BE(port, 2);
  address.split('.').forEach((o, i) => b.writeUInt8(Number(o), 4 + i));
  return b;
}

/** The peer's address from a sockaddr (IPv4, or IPv6 with v4-mapped addresses shown as IPv4). */
export function addressOf(sa: Buffer): string {
  const family = sa.readUInt16LE(0);
  if (family === 2) return `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`;
  if (family === 10) {
    const groups = Array.from({ length: 8 }, (_, i) => sa.readUInt16BE(8 + i * 2));
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      return `${sa[20]}.${sa[21]}.${sa[22]}.${sa[23]}`;
    }
    return groups.map((g) => g.toString(16)).join(':');
  }
  return 'unknown';
}

function expandIpv6(address: string): number[] {
  // A dotted IPv4 tail (::ffff:10.0.0.7) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = address.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => parseInt(g || '0', 16));
}
