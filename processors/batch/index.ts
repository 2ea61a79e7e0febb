// The batch processor factory: groups items into larger batches by size and time.
import { processorFactory } from '../../pipeline/component';
import { configSchema, validate, type BatchConfig } from './config';
import { BatchProcessor } from './batcher';

export const batchProcessorFactory = processorFactory<BatchConfig>({
  kind: 'processor',
  type: 'batch',
  description: 'Groups items into batches by size and time; callers wait for the export of their items',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signal, next) => new BatchProcessor(settings, config, signal, next),
});
