// The memory_limiter processor factory: refuses data (retryably) while the process's memory is
// above the soft limit, and forces a GC above the hard limit. Put it first in every pipeline.
import { processorFactory } from '../../pipeline/component';
import { configSchema, validate, type MemoryLimiterConfig } from './config';
import { MemoryLimiterProcessor } from './processor';

export const memoryLimiterProcessorFactory = processorFactory<MemoryLimiterConfig>({
  kind: 'processor',
  type: 'memory_limiter',
  description: 'Refuses data with a retryable error while resident memory (RSS) is above the soft limit; forces a GC above the hard limit. Put it first in every pipeline',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signal, next) => new MemoryLimiterProcessor(settings, config, signal, next),
});
