/**
 * HTTP requests exactly as written: node:http sends the path byte for byte (no `..` resolution, no
 * re-encoding, unlike fetch), and a slow uploader that streams a large body in small paced chunks and
 * records how much of it had been written when the response arrived.
 */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** Sends `method rawPath` to `base` (http://host:port) on a fresh connection, the path untouched. */
export function rawRequest(
  base: string,
  method: string,
  rawPath: string,
  o: RawRequestOptions = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const req = http.request(
      { host: url.hostname, port: Number(url.port), method, path: rawPath, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs ?? 15_000, () => req.destroy(new Error(`${method} ${rawPath}: timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface SlowUploadOptions {
  headers?: Record<string, string>;
  /** Bytes of the whole body. */
  totalBytes: number;
  /** Sent first (e.g. the start of a SMIL document); the rest is filler. */
  prefix?: string;
  chunkBytes?: number;
  pauseMs?: number;
  /** true: `Transfer-Encoding: chunked` and no Content-Length; false: Content-Length = totalBytes. */
  chunked: boolean;
  timeoutMs?: number;
}

export interface SlowUploadResult {
  /** undefined when no response arrived (see `error`). */
  status: number | undefined;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Body bytes handed to the socket when the response's status line arrived. */
  bytesAtResponse: number | undefined;
  /** Body bytes handed to the socket in all. */
  bytesWritten: number;
  /** Whether the whole body was written (and the request ended). */
  finishedSending: boolean;
  /** A transport error (ECONNRESET, EPIPE, timeout), if one happened before the response was complete. */
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streams `totalBytes` in `chunkBytes` pieces with `pauseMs` between them, honouring back-pressure, and stops
 * writing as soon as a response arrives (a well-behaved client does that on an early 413).
 */
export function slowUpload(
  base: string,
  method: string,
  rawPath: string,
  o: SlowUploadOptions,
): Promise<SlowUploadResult> {
  const url = new URL(base);
  const chunkBytes = o.chunkBytes ?? 256 * 1024;
  const pauseMs = o.pauseMs ?? 2;
  return new Promise((resolve) => {
    const result: SlowUploadResult = {
      status: undefined,
      body: '',
      headers: {},
      bytesAtResponse: undefined,
      bytesWritten: 0,
      finishedSending: false,
    };
    let settled = false;
    let stop = false;
    let wake: (() => void) | undefined;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      stop = true;
      clearTimeout(timer);
      if (error && !(result.status !== undefined && result.body !== '')) result.error = error;
      req.destroy();
      wake?.();
      resolve(result);
    };
    const timer = setTimeout(() => finish('timed out'), o.timeoutMs ?? 60_000);
    const headers: Record<string, string> = { ...o.headers };
    if (o.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(o.totalBytes);
    const req = http.request(
      { host: url.hostname, port: Number(url.port), method, path: rawPath, headers, agent: false },
      (res) => {
        result.status = res.statusCode;
        result.headers = res.headers;
        result.bytesAtResponse = result.bytesWritten;
        stop = true;
        wake?.();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          result.body = Buffer.concat(chunks).toString('utf8');
          finish();
        });
        res.on('error', (err) => finish(err.message));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the whole response was read is the server closing a connection it said it would close.
      if (result.status !== undefined) return;
      finish(err.code ?? err.message);
    });
    req.on('drain', () => wake?.());
    req.on('close', () => {
      wake?.();
      // The socket closed: whatever response there was has been delivered (or never will be).
      setTimeout(
        () => finish(result.status === undefined ? 'connection closed without a response' : undefined),
        500,
      );
    });

    void (async () => {
      const filler = Buffer.alloc(chunkBytes, 0x20);
      let prefix = Buffer.from(o.prefix ?? '', 'utf8');
      while (!stop && result.bytesWritten < o.totalBytes) {
        let piece: Buffer;
        if (prefix.length > 0) {
          piece = prefix.subarray(0, Math.min(prefix.length, chunkBytes));
          prefix = prefix.subarray(piece.length);
        } else {
          piece = filler.subarray(0, Math.min(chunkBytes, o.totalBytes - result.bytesWritten));
        }
        if (req.destroyed || req.writableEnded) return;
        const ok = req.write(piece);
        result.bytesWritten += piece.length;
        if (!ok && !stop) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (pauseMs > 0) await sleep(pauseMs);
      }
      if (!stop && !req.destroyed) {
        result.finishedSending = true;
        req.end();
      }
    })();
  });
}
