// The ebpf_http receiver's config: what to follow (ports, executables, pids), how much to copy
// out of the kernel, and the user-space tracker's bounds.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { HTTP_CAPTURE_MAX } from './record';

/** Filters checked in the kernel hold at most this many entries each. */
export const MAX_FILTER = 16;

export const configSchema = s.object({
  /** server ports: the local port of accepted sockets, the remote port of connected ones; empty = all */
  ports: s.array(s.int({ min: 1, max: 65535 })),
  /** globs over executable names ("nginx", "python3*") or, with a '/', full paths; empty = all */
  executables: s.array(s.string({ nonEmpty: true })),
  /** only these processes (tgids), at most 16; checked in the kernel */
  pids: s.array(s.int({ min: 1 })),
  /** bytes copied from the start of each syscall's data (headers live there; bodies stay in the kernel) */
  capture_bytes: s.int({ default: 512, min: 64, max: HTTP_CAPTURE_MAX }),
  /** url.query on spans (secret parameters redacted); off by default */
  capture_query: s.bool({ default: false }),
  /** connections tracked at once, in the kernel and in user space; the oldest goes first */
  max_connections: s.int({ default: 65536, min: 16, max: 1 << 22 }),
  /** a connection silent this long is forgotten (its open requests counted as partial) */
  idle_timeout: s.duration({ default: '5m' }),
  /** requests awaiting their response per connection (pipelining) before the oldest is dropped */
  max_pending_requests: s.int({ default: 64, min: 1, max: 4096 }),
  /** ring buffer size in bytes (a power of two, at least a page) */
  ring_buffer_size: s.int({ default: 8 << 20, min: 4096, max: 1 << 30 }),
  /** spans held for the next pipeline push before new ones are dropped (counted) */
  max_queued_spans: s.int({ default: 65536, min: 1 }),
  /** how often spans are pushed down the pipeline */
  flush_interval: s.duration({ default: '200ms' }),
  /** HTTPS plaintext through uprobes on SSL_read/SSL_write (libssl and binaries linking OpenSSL
   * statically); needs uprobe support, else the receiver runs without it (logged) */
  tls: s.bool({ default: true }),
  /** optional resource attributes, in the Collector's form (hostmetrics' process scraper):
   * `resource_attributes: { process.command_line: { enabled: true } }`. A command line can hold
   * secrets, so it is off unless asked for. */
  resource_attributes: s.object({
    'process.command_line': s.object({ enabled: s.bool({ default: false }) }),
  }),
  /** where the data comes from: sock_tracepoint (the sock/tcp tracepoints of each socket message,
   * no syscall tracepoint: recent kernels), tcp_sendmsg/tcp_recvmsg by fentry or kprobe (one probe
   * per TCP message, sendfile and io_uring included), or tracepoint (the socket syscall
   * tracepoints, any kernel). auto takes the first of sock_tracepoint, fentry, kprobe, tracepoint
   * this kernel accepts and logs which; a forced one that the kernel refuses fails the start with
   * the reason. */
  attach: s.enum(['auto', 'sock_tracepoint', 'fentry', 'kprobe', 'tracepoint'] as const, { default: 'auto' }),
  /** what start does when this host cannot run the receiver (no CAP_BPF/CAP_PERFMON, no addon,
   * no tracepoints/ring buffers): fail (the service does not start) or warn (one log line saying
   * what is missing and how to run it; the rest of the pipelines run without this receiver) */
  on_missing_privileges: s.enum(['fail', 'warn'] as const, { default: 'fail' }),
});

export type EbpfHttpConfig = Infer<typeof configSchema>;

export function validate(c: EbpfHttpConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.ports.length > MAX_FILTER) issues.push(error(['ports'], `at most ${MAX_FILTER} ports (they are checked in the kernel)`));
  if (c.pids.length > MAX_FILTER) issues.push(error(['pids'], `at most ${MAX_FILTER} pids (use executables for more)`));
  if ((c.ring_buffer_size & (c.ring_buffer_size - 1)) !== 0) issues.push(error(['ring_buffer_size'], 'must be a power of two'));
  if (c.flush_interval < 10) issues.push(error(['flush_interval'], 'must be at least 10ms'));
  if (c.idle_timeout < 1000) issues.push(error(['idle_timeout'], 'must be at least 1s'));
  return issues;
}
