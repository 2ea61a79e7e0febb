// Request bodies read with a bound on both the bytes on the wire and the bytes after inflating:
// a gzip bomb is stopped at max_request_body_size, never inflated in full.
import type { IncomingMessage } from 'node:http';
import * as zlib from 'node:zlib';

/** A body the receiver will not take; `status` is the HTTP answer (400, 413, or 503 when in-flight work is at its limit). */
export class BodyError extends Error {
  constructor(readonly status: 400 | 413 | 503, message: string) {
    super(message);
  }
}

/**
 * Reads the whole body, at most `limit` bytes. `admit(total)` is asked before each chunk is kept
 * (bounded in-flight bytes); a false answer stops the read with a 503.
 */
export function readBody(req: IncomingMessage, limit: number, admit: (total: number) => boolean = () => true): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new BodyError(413, `request body of ${declared} bytes exceeds max_request_body_size ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyError(413, `request body exceeds max_request_body_size ${limit}`));
        return;
      }
      if (!admit(size)) {
        req.off('data', onData);
        req.pause();
        reject(new BodyError(503, 'too much data in flight, retry later'));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', (err) => reject(new BodyError(400, `reading the request body: ${err.message}`)));
  });
}

/**
 * Reads and throws away a body we refused, so the client can finish sending and read our answer
 * on a live connection; stops (the answer then closes the connection) past `limit` bytes.
 */
export function discardBody(req: IncomingMessage, limit: number): Promise<void> {
  if (req.complete) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done();
      }
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
  });
}

type Inflate = (buf: Buffer, opts: zlib.ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

/** Content-Encoding as the Collector accepts it; identity passes through. */
export async function decodeContent(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  if (enc === 'gzip' || enc === 'x-gzip') return inflate(zlib.gunzip, body, limit, enc);
  // HTTP's "deflate" is the zlib format; some clients send raw deflate.
  if (enc === 'deflate') return inflate(hasZlibHeader(body) ? zlib.inflate : zlib.inflateRaw, body, limit, enc);
  throw new BodyError(400, `unsupported Content-Encoding "${encoding}"`);
}

function hasZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

function inflate(fn: Inflate, body: Buffer, limit: number, enc: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxOutputLength makes zlib stop (and fail) as soon as the output passes the limit.
    fn(body, { maxOutputLength: Math.max(limit, 1) }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new BodyError(413, `decompressed request body exceeds max_request_body_size ${limit}`));
      }
      reject(new BodyError(400, `invalid ${enc} body: ${err.message}`));
    });
  });
}
