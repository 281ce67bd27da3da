/** A minimal raw RTMP client, to send what no well-behaved encoder would. */
import net from 'node:net';

function amfString(s: string): Buffer {
  const b = Buffer.alloc(3 + Buffer.byteLength(s));
  b[0] = 0x02;
  b.writeUInt16BE(Buffer.byteLength(s), 1);
  b.write(s, 3);
  return b;
}

function amfNumber(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x00;
  b.writeDoubleBE(n, 1);
  return b;
}

function amfObject(o: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(o)) {
    const key = Buffer.alloc(2 + Buffer.byteLength(k));
    key.writeUInt16BE(Buffer.byteLength(k), 0);
    key.write(k, 2);
    parts.push(key, amfString(v));
  }
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return Buffer.concat(parts);
}

/** An AMF0 `connect` command message in one type-0 chunk on chunk stream 3 (payload under 128 bytes). */
export function connectChunk(cmdObj: Record<string, string>): Buffer {
  const payload = Buffer.concat([amfString('connect'), amfNumber(1), amfObject(cmdObj)]);
  if (payload.length > 128) throw new Error('connect payload too long for one chunk');
  const header = Buffer.alloc(12);
  header[0] = 0x03;
  header.writeUIntBE(0, 1, 3);
  header.writeUIntBE(payload.length, 4, 3);
  header[7] = 0x14;
  header.writeUInt32LE(0, 8);
  return Buffer.concat([header, payload]);
}

/** Connects, does the RTMP handshake, sends `payload`, and resolves when the server closes (or after `timeoutMs`). */
export function sendAfterHandshake(
  port: number,
  payload: Buffer,
  timeoutMs = 5000,
): Promise<{ closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false });
    }, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([0x03]), Buffer.alloc(1536)])));
    socket.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (!sent && received.length >= 1 + 1536 + 1536) {
        sent = true;
        socket.write(received.subarray(1, 1537));
        socket.write(payload);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true });
    });
    socket.on('timeout', () => reject(new Error('timeout')));
  });
}

/** Sends raw bytes without any handshake; resolves when the server closes (or after `timeoutMs`). */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 5000): Promise<{ closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false });
    }, timeoutMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true });
    });
  });
}
