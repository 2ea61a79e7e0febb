// Which functions an ELF file defines, and where, from its symbol tables (.dynsym and .symtab),
// read with positioned reads: a 100 MB executable costs its section headers and symbol tables,
// not a full read. For uprobe targets: "does this binary define SSL_read, at which file offset?"
// (attaching by offset spares libbpf a parse of the whole symbol table per probe). 64-bit
// little-endian only.
import * as fs from 'node:fs';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
/** a symbol or string table larger than this is not read (a bound, not a format limit) */
const MAX_TABLE_BYTES = 128 << 20;

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, b, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  if (got < length) throw new Error(`truncated at offset ${offset + got}`);
  return b;
}

interface Section { type: number; addr: number; offset: number; size: number; link: number; entsize: number }

/**
 * The functions among `wanted` that `file` defines (not imports), each with its file offset
 * (what a uprobe attaches to). Throws when the file cannot be read or is not a 64-bit
 * little-endian ELF.
 */
export function functionOffsets(file: string, wanted: readonly string[]): Map<string, number> {
  const want = new Set(wanted);
  const found = new Map<string, number>();
  const fd = fs.openSync(file, 'r');
  try {
    const h = readAt(fd, 0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
    if (h[4] !== 2 || h[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
    const shoff = Number(h.readBigUInt64LE(0x28));
    const shentsize = h.readUInt16LE(0x3a);
    const shnum = h.readUInt16LE(0x3c);
    if (shoff === 0 || shnum === 0 || shentsize < 64) return found;
    const sh = readAt(fd, shoff, shnum * shentsize);
    const sections: Section[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      sections.push({
        type: sh.readUInt32LE(o + 4),
        addr: Number(sh.readBigUInt64LE(o + 16)),
        offset: Number(sh.readBigUInt64LE(o + 24)),
        size: Number(sh.readBigUInt64LE(o + 32)),
        link: sh.readUInt32LE(o + 40),
        entsize: Number(sh.readBigUInt64LE(o + 56)),
      });
    }
    for (const s of sections) {
      if ((s.type !== SHT_DYNSYM && s.type !== SHT_SYMTAB) || s.entsize < 24) continue;
      const strs = sections[s.link];
      if (!strs || s.size > MAX_TABLE_BYTES || strs.size > MAX_TABLE_BYTES) continue;
      const syms = readAt(fd, s.offset, s.size);
      const names = readAt(fd, strs.offset, strs.size);
      for (let o = 0; o + 24 <= syms.length; o += s.entsize) {
        const shndx = syms.readUInt16LE(o + 6);
        // defined functions only: not imports (index 0) nor special sections (>= 0xff00)
        if (((syms[o + 4] as number) & 0xf) !== STT_FUNC || shndx === 0 || shndx >= 0xff00) continue;
        const at = syms.readUInt32LE(o);
        const end = names.indexOf(0, at);
        if (end < 0 || end - at > 64) continue;
        const name = names.toString('latin1', at, end);
        const home = sections[shndx];
        if (!want.has(name) || found.has(name) || !home) continue;
        // virtual address -> file offset through the section that holds the code
        found.set(name, Number(syms.readBigUInt64LE(o + 8)) - home.addr + home.offset);
      }
      if (found.size === want.size) break;
    }
    return found;
  } finally {
    fs.closeSync(fd);
  }
}
