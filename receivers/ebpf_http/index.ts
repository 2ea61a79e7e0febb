// The ebpf_http receiver factory: HTTP/1.x SERVER and CLIENT spans of every process on the node,
// from the socket syscalls and OpenSSL's SSL_read/SSL_write, with no instrumentation.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type EbpfHttpConfig } from './config';
import { createEbpfHttpReceiver } from './receiver';

export const ebpfHttpReceiverFactory = receiverFactory<EbpfHttpConfig>({
  kind: 'receiver',
  type: 'ebpf_http',
  description: 'HTTP/1.x SERVER and CLIENT spans of every process on the node from socket syscall tracepoints, HTTPS through uprobes on OpenSSL (libssl and static builds such as node): method, path, route, status, peers, W3C traceparent; bodies stay in the kernel. Minimum kernel 5.8 with BTF (tested on 6.18); needs CAP_BPF + CAP_PERFMON (or root), tracefs, and uprobes for HTTPS. Overhead: not measured yet (bench/http-overhead is planned)',
  signals: { traces: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createEbpfHttpReceiver(settings, config, next),
});
