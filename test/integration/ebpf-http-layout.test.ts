// struct http_capture_event (bpf/http_capture.h) = receivers/ebpf_http/record.ts: sizes and offsets
// as the host C compiler lays them out and as the BPF compiler did (the object's BTF); and the
// decoder reads a hand-built record back.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { bpfObjectPath } from '../../native/index';
import { dataOf, decodeHttpEvent, forEachHttpEvent, HTTP_CAPTURE_MAX, HTTP_EVENT, HTTP_TAIL_LEN, TimeOrderedRecords } from '../../receivers/ebpf_http/record';
import { buildC, ensureEbpfBuild, ROOT } from '../helpers/ebpf';

const FIELDS = Object.entries(HTTP_EVENT.fields);

function layoutProgram(): string {
  const fields = FIELDS.map(([f]) => `printf(",\\"${f}\\":%zu", offsetof(struct http_capture_event, ${f}));`).join('\n  ');
  return `#include <stddef.h>
#include <stdio.h>
#include "http_capture.h"
int main(void) {
  printf("{\\"size\\":%zu,\\"data\\":%zu,\\"max\\":%d,\\"tailmax\\":%d", sizeof(struct http_capture_event),
         offsetof(struct http_capture_event, data), HTTP_CAPTURE_MAX, HTTP_TAIL_LEN);
  ${fields}
  printf("}\\n");
  return 0;
}
`;
}

describe('eBPF record layout: bpf/http_capture.h = receivers/ebpf_http/record.ts', function () {
  before(function () {
    ensureEbpfBuild();
  });

  it('matches the host C compiler (sizeof/offsetof, constants)', function () {
    const bin = buildC('http-layout', layoutProgram(), ['-O0', `-I${path.join(ROOT, 'bpf')}`]);
    const m = JSON.parse(execFileSync(bin, { encoding: 'utf8' })) as Record<string, number>;
    assert.equal(m['size'], HTTP_EVENT.size);
    assert.equal(m['data'], HTTP_EVENT.headerSize);
    assert.equal(m['max'], HTTP_CAPTURE_MAX);
    assert.equal(m['tailmax'], HTTP_TAIL_LEN);
    for (const [f, spec] of FIELDS) assert.equal(m[f], spec.offset, `offsetof(${f})`);
  });

  it('matches the BPF object’s BTF, field for field', function () {
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('http_capture'), 'format', 'raw'], { encoding: 'utf8' });
    const lines = raw.split('\n');
    const at = lines.findIndex((l) => /^\[\d+\] STRUCT 'http_capture_event' /.test(l));
    assert.ok(at >= 0, 'struct http_capture_event in the BTF');
    assert.match(lines[at] as string, new RegExp(`size=${HTTP_EVENT.size} `));
    const btf: Record<string, number> = {};
    for (const l of lines.slice(at + 1)) {
      const m = /^\s+'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(l);
      if (!m) break;
      btf[m[1] as string] = Number(m[2]) / 8;
    }
    const ts = Object.fromEntries(FIELDS.map(([f, s]) => [f, s.offset]));
    assert.deepEqual(btf, { ...ts, data: HTTP_EVENT.headerSize });
  });

  it('header is a multiple of 8 and its fields cover every byte', function () {
    const width = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, 'u8[16]': 16 } as const;
    assert.equal(HTTP_EVENT.headerSize % 8, 0);
    assert.equal(FIELDS.reduce((s, [, f]) => s + width[f.type], 0), HTTP_EVENT.headerSize);
  });

  it('decodes a length-framed record (v4-mapped addresses, data, tail, comm)', function () {
    const F = HTTP_EVENT.fields;
    const data = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    const rec = Buffer.alloc(HTTP_EVENT.headerSize + data.length);
    rec.writeBigUInt64LE(123n, F.ts_ns.offset);
    rec.writeBigUInt64LE(7n, F.conn_id.offset);
    rec.writeBigUInt64LE(999n, F.total.offset);
    rec.writeUInt32LE(42, F.tgid.offset);
    rec.writeUInt32LE(data.length, F.captured.offset);
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]).copy(rec, F.laddr.offset);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(rec, F.raddr.offset);
    rec.writeUInt16LE(8080, F.lport.offset);
    rec.writeUInt8(1, F.kind.offset);
    rec.writeUInt32LE(5, F.tail_len.offset);
    Buffer.from('0\r\n\r\n').copy(rec, F.tail.offset);
    Buffer.from('nginx\0').copy(rec, F.comm.offset);
    data.copy(rec, HTTP_EVENT.headerSize);
    const framed = Buffer.alloc(4 + rec.length);
    framed.writeUInt32LE(rec.length);
    rec.copy(framed, 4);
    const got: unknown[] = [];
    assert.equal(forEachHttpEvent(framed, (e) => got.push(e)), 0);
    const e = decodeHttpEvent(rec, 0, rec.length);
    assert.ok(e);
    assert.equal(got.length, 1);
    assert.equal(e.laddr, '127.0.0.1');
    assert.equal(e.raddr, '2001:db8::1');
    assert.equal(e.total, 999);
    assert.equal(e.comm, 'nginx');
    assert.equal(dataOf(e).toString(), data.toString());
    assert.equal(e.tail.toString(), '0\r\n\r\n');
    assert.equal(decodeHttpEvent(rec, 0, HTTP_EVENT.headerSize - 1), undefined, 'short record');
  });

  it('a batch is visited in kernel-time order (equal times in batch order), malformed records counted and skipped', function () {
    const F = HTTP_EVENT.fields;
    const frame = (ts: bigint, fd: number, body = 'x'): Buffer => {
      const data = Buffer.from(body);
      const rec = Buffer.alloc(HTTP_EVENT.headerSize + data.length);
      rec.writeBigUInt64LE(ts, F.ts_ns.offset);
      rec.writeInt32LE(fd, F.fd.offset);
      rec.writeUInt32LE(data.length, F.captured.offset);
      rec.writeUInt8(1, F.kind.offset);
      data.copy(rec, HTTP_EVENT.headerSize);
      const framed = Buffer.alloc(4 + rec.length);
      framed.writeUInt32LE(rec.length);
      rec.copy(framed, 4);
      return framed;
    };
    const short = Buffer.alloc(8);
    short.writeUInt32LE(4); // a record shorter than its header
    const visit = (batch: Buffer): { fds: number[]; bad: number; data: string[] } => {
      const fds: number[] = [];
      const data: string[] = [];
      const bad = forEachHttpEvent(batch, (e) => { fds.push(e.fd); data.push(dataOf(e).toString()); });
      return { fds, bad, data };
    };
    // the response read (ts 200) reached the ring before the request write timed at its entry (ts 100)
    const late = visit(Buffer.concat([frame(200n, 1, 'HTTP/1.1 200'), short, frame(100n, 2, 'GET /'), frame(200n, 3), frame(150n, 4), frame(200n, 5)]));
    assert.deepEqual(late.fds, [2, 4, 1, 3, 5]);
    assert.deepEqual(late.data.slice(0, 2), ['GET /', 'x']);
    assert.equal(late.bad, 1);
    // in order already: as they come
    assert.deepEqual(visit(Buffer.concat([frame(1n, 1), frame(1n, 2), frame(2n, 3)])).fds, [1, 2, 3]);
    // times far apart (beyond the packed sort key's range) and past 2^53 ns: still in order
    assert.deepEqual(visit(Buffer.concat([frame(2n ** 60n, 1), frame(5n, 2), frame(2n ** 54n, 3)])).fds, [2, 3, 1]);
    // far from time order (more moves than an insertion sort is allowed): sorted all the same
    const reversed = visit(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(BigInt(1000 - i), i)))).fds;
    assert.deepEqual(reversed, Array.from({ length: 1000 }, (_, i) => 999 - i));
    // more records than the scratch arrays first hold, far from order
    const many = Array.from({ length: 9000 }, (_, i) => frame(BigInt(9000 - i), i));
    assert.deepEqual(visit(Buffer.concat(many)).fds, Array.from({ length: 9000 }, (_, i) => 8999 - i));
    // a batch of that size nearly in order (the scratch arrays grew with the records they held)
    const nearly = Array.from({ length: 9000 }, (_, i) => frame(BigInt(i % 2 === 0 ? i + 1 : i - 1), i));
    assert.deepEqual(visit(Buffer.concat(nearly)).fds, Array.from({ length: 9000 }, (_, i) => (i % 2 === 0 ? i + 1 : i - 1)));
  });

  it('across batches: the newest records wait for a send timed before them that reached the ring later', function () {
    const F = HTTP_EVENT.fields;
    const frame = (ts: number, fd: number): Buffer => {
      const rec = Buffer.alloc(HTTP_EVENT.headerSize + 1);
      rec.writeBigUInt64LE(BigInt(ts), F.ts_ns.offset);
      rec.writeInt32LE(fd, F.fd.offset);
      rec.writeUInt32LE(1, F.captured.offset);
      rec.writeUInt8(1, F.kind.offset);
      rec[HTTP_EVENT.headerSize] = 0x40 + fd; // a byte of data: the held copy keeps it
      const framed = Buffer.alloc(4 + rec.length);
      framed.writeUInt32LE(rec.length);
      rec.copy(framed, 4);
      return framed;
    };
    const ordered = new TimeOrderedRecords(50);
    const walk = (batch: Buffer, until?: number): string[] => {
      const got: string[] = [];
      const bad = ordered.visit(batch, (e) => got.push(`${e.fd}${dataOf(e).toString('latin1')}`), until);
      assert.equal(bad, 0);
      return got;
    };
    // batch 1: a response read at 200 is within 50 of the newest time: held
    assert.deepEqual(walk(Buffer.concat([frame(100, 1), frame(200, 3)])), ['1A']);
    assert.ok(ordered.heldBytes > 0);
    // batch 2 brings the request write timed at 180 (its syscall was still running): it comes first
    assert.deepEqual(walk(Buffer.concat([frame(180, 2), frame(400, 4)])), ['2B', '3C']);
    // no batch for a while: what is older than the given time goes on, the rest still waits
    assert.deepEqual(walk(Buffer.alloc(0), 399), []);
    assert.deepEqual(walk(Buffer.alloc(0), 400), ['4D']);
    assert.equal(ordered.heldBytes, 0);
    // a malformed record in a batch is counted, and does not stop the held ones
    assert.deepEqual(walk(frame(1000, 5)), []);
    const short = Buffer.alloc(8);
    short.writeUInt32LE(4);
    const got: number[] = [];
    assert.equal(ordered.visit(short, (e) => got.push(e.fd), Infinity), 1);
    assert.deepEqual(got, [5]);
  });
});
