// The ebpf_http receiver factory: HTTP/1.x SERVER and CLIENT spans of every process on the node,
// from the socket syscalls, with no instrumentation.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type EbpfHttpConfig } from './config';
import { createEbpfHttpReceiver } from './receiver';

export const ebpfHttpReceiverFactory = receiverFactory<EbpfHttpConfig>({
  kind: 'receiver',
  type: 'ebpf_http',
  description: 'HTTP/1.x SERVER and CLIENT spans of every process on the node from socket syscall tracepoints (plaintext; TLS planned): method, path, route, status, peers, W3C traceparent; bodies stay in the kernel. Minimum kernel 5.8 with BTF (tested on 6.18); needs CAP_BPF + CAP_PERFMON (or root) and tracefs. Overhead: not measured yet (bench/http-overhead is planned)',
  signals: { traces: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createEbpfHttpReceiver(settings, config, next),
});
