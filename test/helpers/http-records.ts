// ebpf_http records built by hand, as the kernel sends them, for tests of the user-space side.
import { EventKind, type Direction, type HttpEvent, type Role } from '../../receivers/ebpf_http/record';

/** Bytes of the records around a record in a batch: a complete head end and message starts. */
const NEIGHBOUR = Buffer.from('\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n', 'latin1');

export interface SyscallRecord {
  connKey: number;
  role: Role;
  direction: Direction;
  /** every byte the syscall moved */
  bytes: Buffer;
  /** how many of them the kernel captures (capture_bytes) */
  capture: number;
  tsNs: number;
  flags?: number;
}

/** One syscall's data record: the first `capture` bytes and, when they stop short, the last 16.
 * The captured bytes sit inside a batch between other records' bytes that look like HTTP:
 * nothing may be read beyond them. */
export function syscallRecord(r: SyscallRecord): HttpEvent {
  const data = r.bytes.subarray(0, Math.min(r.bytes.length, r.capture));
  return {
    tsNs: r.tsNs, connId: BigInt(r.connKey), connKey: r.connKey, total: r.bytes.length, tgid: 10, tid: 10, fd: r.connKey + 2,
    kind: EventKind.DATA, direction: r.direction, role: r.role, flags: r.flags ?? 0,
    laddr: '127.0.0.1', raddr: '127.0.0.1', lport: 80, rport: 40000 + r.connKey, comm: 'x',
    bytes: Buffer.concat([NEIGHBOUR, data, NEIGHBOUR]), dataStart: NEIGHBOUR.length, captured: data.length,
    tail: r.bytes.length > data.length ? r.bytes.subarray(r.bytes.length - 16) : Buffer.alloc(0),
  };
}
