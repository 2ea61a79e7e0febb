// The ebpf_http receiver factory: HTTP/1.x SERVER and CLIENT spans of every process on the node,
// from the socket syscalls and OpenSSL's SSL_read/SSL_write, with no instrumentation.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type EbpfHttpConfig } from './config';
import { createEbpfHttpReceiver } from './receiver';

export const ebpfHttpReceiverFactory = receiverFactory<EbpfHttpConfig>({
  kind: 'receiver',
  type: 'ebpf_http',
  description: 'HTTP/1.x SERVER and CLIENT spans of every process on the node from the sock/tcp tracepoints of each socket message (else the socket syscall tracepoints), HTTPS through uprobes on OpenSSL (libssl and static builds such as node): method, path, route, status, peers, W3C traceparent; bodies stay in the kernel. Minimum kernel 5.8 with BTF (tested on 6.18); needs CAP_BPF + CAP_PERFMON (or root), tracefs, and uprobes for HTTPS. attach: auto takes the first the kernel allows of sock_tracepoint (no syscall tracepoint: processes doing no HTTP pay nothing), fentry or kprobe on tcp_sendmsg/tcp_recvmsg, the syscall tracepoints. Overhead (bench/http-overhead: nginx + hey at 5 000 req/s, both sides traced, 2-core VM): ~17-22.5 us of CPU per request (Sonde process ~10-14, its BPF programs ~6.7-8) against ~36-44 us for nginx to serve it',
  signals: { traces: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createEbpfHttpReceiver(settings, config, next),
});
