// Helpers for the eBPF integration tests: make sure the kernel side is built, build small C
// programs with gcc, and run children that wait for a go signal (so a BPF program can be loaded
// with the child's pid as a read-only global before the child does anything).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const BIN_DIR = path.join(ROOT, 'build', 'test-bin');

let built = false;

/** Runs scripts/setup-ebpf.sh once per test process (quick when nothing changed). */
export function ensureEbpfBuild(): void {
  if (built) return;
  const script = path.join(ROOT, 'scripts', 'setup-ebpf.sh');
  const r = spawnSync('bash', [script], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `the eBPF build (build/bpf, build/native) is missing and scripts/setup-ebpf.sh failed (exit ${String(r.status)}):\n${r.stderr}`,
    );
  }
  built = true;
}

/** Compiles a C source with gcc into build/test-bin (cached by content); returns the binary path. */
export function buildC(name: string, source: string, flags: string[] = ['-O2', '-g']): string {
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const hash = createHash('sha256').update(source).update(flags.join(' ')).digest('hex').slice(0, 12);
  const bin = path.join(BIN_DIR, `${name}-${hash}`);
  if (fs.existsSync(bin)) return bin;
  const src = `${bin}.c`;
  fs.writeFileSync(src, source);
  const r = spawnSync('gcc', [...flags, '-Wall', '-o', `${bin}.tmp`, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${name} failed:\n${r.stderr}`);
  fs.renameSync(`${bin}.tmp`, bin);
  return bin;
}

export interface GatedChild {
  pid: number;
  child: ChildProcess;
  /** lets the child start its work */
  go(): void;
  /** exit code and stdout */
  done: Promise<{ code: number | null; stdout: string }>;
  kill(): void;
}

/** Starts a program that blocks reading one byte from stdin before doing its work. */
export async function spawnGated(bin: string, args: string[] = []): Promise<GatedChild> {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout })),
  );
  return {
    pid: child.pid as number,
    child,
    go: () => child.stdin?.end('g'),
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** write(2) N times (sizes 1..7) to /dev/null after the go byte; nothing else writes. */
export const WRITER_C = String.raw`
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  char buf[8] = "sonde!!", c;
  int fd = open("/dev/null", O_WRONLY);
  if (fd < 0 || read(0, &c, 1) != 1) return 2;
  for (long i = 0; i < n; i++)
    if (write(fd, buf, 1 + i % 7) < 0) return 3;
  return 0;
}
`;

/** Sum of the byte counts WRITER_C asks for in n writes. */
export function writerBytes(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += 1 + (i % 7);
  return s;
}

/**
 * Calls sonde_work() n times after the go byte, timing each call itself (CLOCK_MONOTONIC around
 * the call), and prints "calls=<n> sum_ns=<total>" at the end.
 */
export const LATENCY_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}
/* noinline/noclone: the symbol must exist and be the code that runs */
__attribute__((noinline, noclone)) long sonde_work(long i) {
  struct timespec d = {0, 200000 + (i % 5) * 100000}; /* 200..600 us */
  nanosleep(&d, NULL);
  return i * 2;
}
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  long long sum = 0;
  long acc = 0;
  char c;
  if (read(0, &c, 1) != 1) return 2;
  for (int i = 0; i < n; i++) {
    long long t0 = now_ns();
    acc += sonde_work(i);
    sum += now_ns() - t0;
  }
  printf("calls=%d sum_ns=%lld acc=%ld\n", n, sum, acc);
  return 0;
}
`;

/** Spins on the CPU for argv[1] ms after the go byte. */
export const SPIN_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 1000;
  struct timespec t0, t;
  volatile unsigned long x = 0;
  char c;
  if (read(0, &c, 1) != 1) return 2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    for (int i = 0; i < 100000; i++) x += i;
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
  printf("%lu\n", (unsigned long)x);
  return 0;
}
`;
