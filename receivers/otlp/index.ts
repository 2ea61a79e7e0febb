// The otlp receiver factory: OTLP over gRPC (4317) and HTTP (4318), every signal.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type OtlpReceiverConfig } from './config';
import { OtlpReceiver } from './receiver';

export const otlpReceiverFactory = receiverFactory<OtlpReceiverConfig>({
  kind: 'receiver',
  type: 'otlp',
  description: 'Receives traces, metrics and logs over OTLP/gRPC and OTLP/HTTP (protobuf or JSON)',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
});
