/** SRT in tests: a free UDP port, a lossy UDP relay between an SRT caller and the appliance, and an SRT publish. */
import dgram from 'node:dgram';
import { publish, type PublishOptions, type Publisher } from './encoder.js';

/** A UDP port nobody is bound to now (as {@link freePort} for TCP). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface LossyRelay {
  port: number;
  /** Datagrams forwarded and dropped, both directions. */
  forwarded: number;
  dropped: number;
  close(): Promise<void>;
}

/**
 * A UDP relay on loopback that drops `loss` of the datagrams in each direction (deterministic: a seeded
 * generator), as a lossy long link would. One caller at a time (SRT's handshake and data use one UDP flow).
 */
export async function startLossyRelay(target: number, loss: number, seed = 7): Promise<LossyRelay> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let caller: { address: string; port: number } | undefined;
  let state = seed >>> 0;
  const random = () => {
    // xorshift32: the same losses on every run.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
  const relay: LossyRelay = {
    port: 0,
    forwarded: 0,
    dropped: 0,
    close: async () => {
      await Promise.all([
        new Promise<void>((r) => front.close(() => r())),
        new Promise<void>((r) => back.close(() => r())),
      ]);
    },
  };
  const pass = (): boolean => {
    if (random() < loss) {
      relay.dropped++;
      return false;
    }
    relay.forwarded++;
    return true;
  };
  front.on('message', (msg, rinfo) => {
    caller = { address: rinfo.address, port: rinfo.port };
    if (pass()) back.send(msg, target, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (caller && pass()) front.send(msg, caller.port, caller.address);
  });
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));
  relay.port = front.address().port;
  return relay;
}

export interface SrtPublishOptions extends PublishOptions {
  streamId: string;
  passphrase?: string;
  /** The caller's latency (ms). */
  latencyMs?: number;
  /** The listener's address; 127.0.0.1 by default. */
  host?: string;
}

/** ffmpeg publishing MPEG-TS over SRT (caller mode) to `srt://<host>:<port>`. */
export function publishSrt(port: number, o: SrtPublishOptions): Publisher {
  const { streamId, passphrase, latencyMs, host = '127.0.0.1', ...rest } = o;
  const query = latencyMs !== undefined ? `?latency=${latencyMs * 1000}` : '';
  return publish(`srt://${host}:${port}${query}`, {
    ...rest,
    container: 'mpegts',
    extraOutputArgs: [
      ...(rest.extraOutputArgs ?? []),
      '-srt_streamid',
      streamId,
      ...(passphrase ? ['-passphrase', passphrase] : []),
    ],
  });
}
