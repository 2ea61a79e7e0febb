// The record structs of bpf/sonde.h and the TypeScript decoder (native/records.ts) agree: sizes and
// offsets as the host C compiler lays them out, and as the BPF compiler did (the object's BTF).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { bpfObjectPath } from '../../native/index';
import { RECORD_LAYOUTS } from '../../native/records';
import { buildC, ensureEbpfBuild, ROOT } from '../helpers/ebpf';

interface Measured {
  size: number;
  fields: Record<string, number>;
}

/** A C program printing sizeof/offsetof of every field the TS side knows, as JSON. */
function layoutProgram(): string {
  const structs = RECORD_LAYOUTS.map((l) => {
    const fields = Object.keys(l.fields)
      .map((f) => `printf("%s\\"${f}\\":%zu", first ? "" : ",", offsetof(struct ${l.struct}, ${f})); first = 0;`)
      .join('\n  ');
    return `printf("%s\\"${l.struct}\\":{\\"size\\":%zu,\\"fields\\":{", n++ ? "," : "", sizeof(struct ${l.struct}));
  first = 1;
  ${fields}
  printf("}}");`;
  }).join('\n  ');
  return `#include <stddef.h>
#include <stdio.h>
#include "sonde.h"
int main(void) {
  int n = 0, first;
  printf("{");
  ${structs}
  printf("}\\n");
  return 0;
}
`;
}

/** struct name -> layout, read from a BPF object's BTF with bpftool. */
function btfLayouts(object: string): Map<string, Measured> {
  const raw = execFileSync('bpftool', ['btf', 'dump', 'file', object, 'format', 'raw'], { encoding: 'utf8' });
  const out = new Map<string, Measured>();
  let cur: Measured | undefined;
  for (const line of raw.split('\n')) {
    const s = /^\[\d+\] STRUCT '(\w+)' size=(\d+)/.exec(line);
    if (s) {
      cur = { size: Number(s[2]), fields: {} };
      out.set(s[1] as string, cur);
      continue;
    }
    const m = /^\s+'(\w+)' type_id=\d+ bits_offset=(\d+)/.exec(line);
    if (m && cur) cur.fields[m[1] as string] = Number(m[2]) / 8;
    else if (!line.startsWith('\t')) cur = undefined;
  }
  return out;
}

describe('eBPF record layouts: bpf/sonde.h = native/records.ts', function () {
  before(function () {
    ensureEbpfBuild();
  });

  it('matches the host C compiler (sizeof/offsetof)', function () {
    const bin = buildC('layout', layoutProgram(), ['-O0', `-I${path.join(ROOT, 'bpf')}`]);
    const measured = JSON.parse(execFileSync(bin, { encoding: 'utf8' })) as Record<string, Measured>;
    for (const l of RECORD_LAYOUTS) {
      const c = measured[l.struct];
      assert.ok(c, `struct ${l.struct} measured`);
      assert.equal(l.size, c.size, `sizeof(struct ${l.struct})`);
      for (const [f, spec] of Object.entries(l.fields)) assert.equal(spec.offset, c.fields[f], `offsetof(${l.struct}, ${f})`);
    }
  });

  it('matches the BPF objects’ BTF, field for field (no field missing on either side)', function () {
    const objects = ['syscall_write', 'uprobe_latency', 'perf_sample'].map(bpfObjectPath);
    for (const obj of objects) {
      const btf = btfLayouts(obj);
      for (const l of RECORD_LAYOUTS) {
        const b = btf.get(l.struct);
        assert.ok(b, `${l.struct} in ${obj}'s BTF`);
        assert.equal(b.size, l.size, `${l.struct} size in ${obj}`);
        const ts = Object.fromEntries(Object.entries(l.fields).map(([f, s]) => [f, s.offset]));
        assert.deepEqual(b.fields, ts, `${l.struct} fields in ${obj}`);
      }
    }
  });

  it('keeps sizes a multiple of 8 with no implicit padding', function () {
    const width = { u32: 4, s32: 4, u64: 8, s64: 8, 'char[16]': 16 } as const;
    for (const l of RECORD_LAYOUTS) {
      assert.equal(l.size % 8, 0, l.struct);
      const covered = Object.values(l.fields).reduce((s, f) => s + width[f.type], 0);
      assert.equal(covered, l.size, `${l.struct}: fields cover every byte`);
    }
  });
});
