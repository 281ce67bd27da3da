/**
 * The SRT ingest child process. It listens on the SRT port (caller mode from the encoder), and:
 * - in libsrt's listen callback, reads the caller's stream id, refuses one it cannot read or that names no
 *   channel, and sets that channel's passphrase and latency on the new connection, so libsrt itself refuses a
 *   wrong passphrase (which the child then reports, with the reason libsrt gives);
 * - asks the core whether an accepted caller may publish (the same gate as RTMP: tokens, Kaltura's
 *   liveStream.authenticate, a stopped channel), holding its first media meanwhile;
 * - relays an admitted caller's MPEG-TS into the RTMP ingest with ffmpeg (`-c copy`, no re-encode) on a
 *   loopback URL holding a single-use relay key, so everything after the ingest (primary and backup, transcoding,
 *   health, push targets) is the same for SRT and RTMP;
 * - reports SRT's own statistics (RTT, loss, retransmissions, bandwidth) every 2 s.
 * It talks to the core over the fork IPC channel (see srt-protocol.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  addressOf,
  loadSrtLibrary,
  socketAddress,
  SRT_EPOLL_ERR,
  SRT_EPOLL_IN,
  SRT_REJ,
  SRT_REJX,
  SRTO,
  SRTS_CONNECTED,
} from './srt-library.js';
import type {
  SrtCaller,
  SrtChannelSettings,
  SrtChildOptions,
  SrtChildToCore,
  SrtCoreToChild,
} from './srt-protocol.js';
import { parseSrtStreamId } from './srt-stream-id.js';

/** Media held for a caller while the core decides (beyond: the oldest is dropped; ffmpeg resyncs on TS). */
const MAX_HELD_BYTES = 4 * 1024 * 1024;
/** A relay whose ffmpeg stops reading this far behind is cut (the core is told why). */
const MAX_RELAY_BACKLOG = 8 * 1024 * 1024;
/** A caller that sends no media this long (after the handshake, or since its last packet) is hung up on. */
const NO_MEDIA_MS = 10_000;
/** Handshakes in progress at once, from one address and in all (a flood is refused at once, cheaply). */
const MAX_ATTEMPTS_PER_ADDRESS = 8;
const MAX_ATTEMPTS = 256;
/** Callers from one address at once. */
const MAX_SESSIONS_PER_ADDRESS = 4;
/** How long after the listen callback a caller not yet accepted counts as refused by the handshake. */
const REFUSAL_CHECK_MS = 1500;

interface Session {
  socket: number;
  caller: SrtCaller;
  held: Buffer[];
  heldBytes: number;
  relay?: ChildProcess;
  ended: boolean;
  /** When media last arrived (or the handshake ended). */
  lastDataAt: number;
}

interface Attempt {
  at: number;
  remote: string;
  entryId: string;
  streamId: string;
  encrypted: boolean;
  caller: Omit<SrtCaller, 'srtId' | 'remote' | 'encrypted'>;
}

function send(msg: SrtChildToCore): void {
  process.send?.(msg);
}

const opts = JSON.parse(process.env.ECDN_SRT_OPTIONS ?? '{}') as SrtChildOptions;
let channels: Record<string, SrtChannelSettings> = {};
const attempts = new Map<number, Attempt>();
const sessions = new Map<number, Session>();
let stopping = false;

async function main(): Promise<void> {
  let srt: ReturnType<typeof loadSrtLibrary>;
  try {
    srt = loadSrtLibrary(opts.library);
  } catch (err) {
    send({ type: 'listen-error', message: (err as Error).message });
    return;
  }
  const listener = srt.createSocket();
  srt.setInt(listener, SRTO.RCVSYN, 0);
  if (!srt.bind(listener, socketAddress(opts.bind, opts.srtPort))) {
    send({ type: 'listen-error', message: `SRT port ${opts.bind}:${opts.srtPort}: ${srt.lastError()}` });
    return;
  }

  const refuse = (
    socket: number,
    code: number,
    remote: string,
    streamId: string,
    c: string,
    reason: string,
    entryId?: string,
  ) => {
    srt.setRejectReason(socket, code);
    send({
      type: 'refused',
      remote,
      streamId: streamId.slice(0, 200),
      code: c,
      reason,
      ...(entryId ? { entryId } : {}),
    });
    return -1;
  };

  srt.onListen(listener, (socket, peer, streamId) => {
    const remote = addressOf(peer);
    if (stopping)
      return refuse(
        socket,
        SRT_REJX.OVERLOAD,
        remote,
        streamId,
        'SHUTTING_DOWN',
        'The appliance is shutting down',
      );
    const fromThere = (xs: Iterable<{ remote: string }>) => [...xs].filter((x) => x.remote === remote).length;
    if (
      sessions.size >= opts.maxSessions ||
      attempts.size >= MAX_ATTEMPTS ||
      fromThere(attempts.values()) >= MAX_ATTEMPTS_PER_ADDRESS ||
      fromThere([...sessions.values()].map((x) => x.caller)) >= MAX_SESSIONS_PER_ADDRESS
    ) {
      return refuse(
        socket,
        SRT_REJX.OVERLOAD,
        remote,
        streamId,
        'TOO_MANY_CALLERS',
        `Too many SRT callers (at most ${opts.maxSessions} at once, ${MAX_SESSIONS_PER_ADDRESS} from one address)`,
      );
    }
    const parsed = parseSrtStreamId(streamId);
    if (!parsed.ok) {
      return refuse(
        socket,
        SRT_REJX.BAD_REQUEST,
        remote,
        streamId,
        parsed.rejection.code,
        parsed.rejection.message,
      );
    }
    const sid = parsed.value;
    const channel = channels[sid.entryId];
    if (!channel && sid.form === 'plain') {
      return refuse(
        socket,
        SRT_REJX.NOTFOUND,
        remote,
        streamId,
        'ENTRY_ID_NOT_FOUND',
        `No channel ${sid.entryId} on this appliance (a plain stream id needs the channel's passphrase)`,
        sid.entryId,
      );
    }
    if (sid.form === 'plain' && !channel?.passphrase) {
      return refuse(
        socket,
        SRT_REJX.UNAUTHORIZED,
        remote,
        streamId,
        'SRT_PASSPHRASE_REQUIRED',
        `Channel ${sid.entryId} has no SRT passphrase: use the #:::e=…,p=<token> stream id`,
        sid.entryId,
      );
    }
    // A passphrase libsrt does not take (outside 10 to 79 bytes) must not leave the connection unencrypted.
    if (channel?.passphrase && !srt.setString(socket, SRTO.PASSPHRASE, channel.passphrase)) {
      return refuse(
        socket,
        SRT_REJX.UNACCEPTABLE,
        remote,
        streamId,
        'SRT_PASSPHRASE_INVALID',
        `Channel ${sid.entryId}'s SRT passphrase is not one SRT accepts (10 to 79 characters): set another`,
        sid.entryId,
      );
    }
    if (channel) srt.setInt(socket, SRTO.RCVLATENCY, channel.latencyMs);
    attempts.set(socket, {
      at: Date.now(),
      remote,
      entryId: sid.entryId,
      streamId,
      encrypted: Boolean(channel?.passphrase),
      caller: {
        entryId: sid.entryId,
        serverIndex: sid.serverIndex,
        streamName: sid.streamName,
        form: sid.form,
        ...(sid.token ? { token: sid.token } : {}),
      },
    });
    setTimeout(() => checkRefused(socket), REFUSAL_CHECK_MS).unref();
    return 0;
  });

  /**
   * A caller that passed the callback but was not accepted soon after: libsrt refused its handshake. After our
   * callback said yes, what is left to fail is the encryption: a wrong passphrase, or one on a single side.
   * (libsrt keeps no reject reason on the listener's side of a refused handshake; a specific one is used if
   * this library version has it.)
   */
  const checkRefused = (socket: number): void => {
    const a = attempts.get(socket);
    if (!a) return;
    if (srt.state(socket) === SRTS_CONNECTED) {
      // Connected and waiting to be accepted: not refused.
      setTimeout(() => checkRefused(socket), REFUSAL_CHECK_MS).unref();
      return;
    }
    attempts.delete(socket);
    const reason = srt.rejectReason(socket);
    const [code, text] =
      reason === SRT_REJ.UNSECURE && !a.encrypted
        ? [
            'SRT_PASSPHRASE_UNEXPECTED',
            `The encoder set a passphrase but channel ${a.entryId} has none on this appliance`,
          ]
        : reason === SRT_REJ.UNKNOWN || reason === SRT_REJ.BADSECRET || reason === SRT_REJ.UNSECURE
          ? a.encrypted
            ? [
                'SRT_WRONG_PASSPHRASE',
                `Wrong or missing SRT passphrase for ${a.entryId}: compare the encoder's passphrase with the channel's`,
              ]
            : [
                'SRT_PASSPHRASE_UNEXPECTED',
                `The encoder set a passphrase but channel ${a.entryId} has none on this appliance yet`,
              ]
          : ['SRT_HANDSHAKE_FAILED', `SRT handshake failed: ${srt.rejectReasonText(reason)}`];
    send({
      type: 'refused',
      remote: a.remote,
      entryId: a.entryId,
      streamId: a.streamId.slice(0, 200),
      code,
      reason: text,
    });
  };

  // The channels' passphrases first: a caller must never meet a listener that does not know them yet.
  await channelsKnown;
  if (!srt.listen(listener, 32)) {
    send({ type: 'listen-error', message: `SRT port ${opts.bind}:${opts.srtPort}: ${srt.lastError()}` });
    return;
  }
  const eid = srt.epollCreate();
  srt.epollAdd(eid, listener, SRT_EPOLL_IN | SRT_EPOLL_ERR);
  const buf = Buffer.alloc(1500);

  const end = (s: Session, reason: string): void => {
    if (s.ended) return;
    s.ended = true;
    sessions.delete(s.socket);
    srt.epollRemove(eid, s.socket);
    srt.close(s.socket);
    if (s.relay?.stdin && !s.relay.stdin.destroyed) s.relay.stdin.end();
    const relay = s.relay;
    if (relay) setTimeout(() => relay.exitCode === null && relay.kill('SIGKILL'), 5000).unref();
    send({ type: 'ended', srtId: s.socket, reason });
  };

  const deliver = (s: Session, chunk: Buffer): void => {
    const stdin = s.relay?.stdin;
    if (stdin) {
      if (stdin.writableLength > MAX_RELAY_BACKLOG) {
        end(s, 'the relay to the RTMP ingest fell too far behind');
        return;
      }
      stdin.write(chunk);
      return;
    }
    s.held.push(chunk);
    s.heldBytes += chunk.length;
    while (s.heldBytes > MAX_HELD_BYTES && s.held.length > 1)
      s.heldBytes -= (s.held.shift() as Buffer).length;
  };

  /** One pending caller per readiness event (the listener stays ready while more are waiting). */
  const accept = (): void => {
    const { socket, peer } = srt.accept(listener);
    if (socket < 0) return;
    const a = attempts.get(socket);
    attempts.delete(socket);
    if (!a) {
      srt.close(socket);
      return;
    }
    srt.setInt(socket, SRTO.RCVSYN, 0);
    const caller: SrtCaller = { ...a.caller, srtId: socket, remote: addressOf(peer), encrypted: a.encrypted };
    const s: Session = { socket, caller, held: [], heldBytes: 0, ended: false, lastDataAt: Date.now() };
    sessions.set(socket, s);
    srt.epollAdd(eid, socket, SRT_EPOLL_IN | SRT_EPOLL_ERR);
    send({ type: 'publish', ...caller });
  };

  const read = (s: Session): void => {
    for (;;) {
      const n = srt.recv(s.socket, buf);
      if (n === 0) return;
      if (n < 0) {
        end(s, 'the encoder closed the SRT connection');
        return;
      }
      s.lastDataAt = Date.now();
      deliver(s, Buffer.from(buf.subarray(0, n)));
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopping) {
      const ready = await srt.epollWait(eid, 1000);
      for (const { fd, events } of ready) {
        if (fd === listener) {
          accept();
          continue;
        }
        const s = sessions.get(fd);
        if (!s) continue;
        if (events & SRT_EPOLL_IN) read(s);
        if (events & SRT_EPOLL_ERR && !s.ended) {
          read(s);
          end(s, 'the SRT connection broke');
        }
      }
    }
  };

  const relay = (s: Session, url: string): void => {
    const ff = spawn(
      opts.ffmpegPath,
      [
        '-hide_banner',
        '-nostats',
        '-loglevel',
        'error',
        // A second of probing, not ffmpeg's default 5 s: the publish starts (and the first frame comes) sooner.
        '-analyzeduration',
        '1000000',
        '-f',
        'mpegts',
        '-i',
        'pipe:0',
        '-c',
        'copy',
        '-f',
        'flv',
        url,
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    s.relay = ff;
    let stderr = '';
    ff.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    ff.stdin?.on('error', () => undefined);
    ff.once('error', (err) => end(s, `the relay could not start: ${err.message}`));
    ff.on('exit', (code, signal) => {
      const why =
        stderr
          .trim()
          .split('\n')
          .pop()
          ?.replace(/rtmp:\/\/\S+/g, '(ingest)') ?? '';
      end(
        s,
        code === 0
          ? 'the relay ended'
          : `the relay to the RTMP ingest stopped (${signal ?? `code ${code}`}${why ? `: ${why}` : ''})`,
      );
    });
    for (const chunk of s.held) ff.stdin?.write(chunk);
    s.held = [];
    s.heldBytes = 0;
  };

  process.on('message', (m: SrtCoreToChild) => {
    switch (m.type) {
      case 'channels':
        break;
      case 'relay': {
        const s = sessions.get(m.srtId);
        if (s && !s.ended && !s.relay) relay(s, m.url);
        break;
      }
      case 'close': {
        const s = sessions.get(m.srtId);
        if (s) end(s, `${m.code}: ${m.reason}`);
        break;
      }
      case 'shutdown':
        stopping = true;
        for (const s of [...sessions.values()]) end(s, 'the appliance is shutting down');
        srt.close(listener);
        setTimeout(() => process.exit(0), 300).unref();
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));

  setInterval(() => {
    const now = Date.now();
    for (const s of [...sessions.values()]) {
      if (now - s.lastDataAt > NO_MEDIA_MS) end(s, `no media from the encoder for ${NO_MEDIA_MS / 1000} s`);
    }
    for (const s of sessions.values()) {
      if (!s.relay) continue;
      const st = srt.stats(s.socket);
      if (!st) continue;
      send({
        type: 'stats',
        srtId: s.socket,
        stats: {
          rttMs: Math.round(st.msRTT * 10) / 10,
          recvRateMbps: Math.round(st.mbpsRecvRate * 1000) / 1000,
          bandwidthMbps: Math.round(st.mbpsBandwidth * 10) / 10,
          packetsReceived: Number(st.pktRecvTotal),
          packetsLost: st.pktRcvLossTotal,
          packetsRetransmitted: st.pktRcvRetrans,
          packetsDropped: st.pktRcvDropTotal,
          latencyMs: st.msRcvTsbPdDelay,
        },
      });
    }
  }, 2000).unref();

  send({ type: 'ready', port: srt.localPort(listener) || opts.srtPort });
  // Its memory, now and every 2 s: the core restarts a runaway child (MAX_SRT_CHILD_RSS).
  const memory = () => send({ type: 'memory', rss: process.memoryUsage.rss() });
  memory();
  setInterval(memory, 2000).unref();
  loop().catch((err: Error) => {
    process.stderr.write(`SRT loop failed: ${err.message}\n`);
    process.exit(1);
  });
}

// The core sends the channels right after the fork; listening waits for them (5 s at most).
let channelsArrived: () => void = () => undefined;
const channelsKnown = new Promise<void>((resolve) => {
  channelsArrived = resolve;
  setTimeout(resolve, 5000).unref();
});
process.on('message', (m: SrtCoreToChild) => {
  if (m.type !== 'channels') return;
  channels = m.channels;
  channelsArrived();
});

main().catch((err: Error) => {
  send({ type: 'listen-error', message: `SRT ingest: ${err.message}` });
});
