// health_check: the Collector's v1 health check endpoint (default 127.0.0.1:13133, path "/").
import { extensionFactory } from '../../pipeline/component';
import { configSchema, validate } from './config';
import type { HealthCheckConfig } from './config';
import { HealthCheck } from './health_check';

export const healthCheckExtensionFactory = extensionFactory<HealthCheckConfig>({
  kind: 'extension',
  type: 'health_check',
  description: 'Answers 200 while every pipeline is up and 503 otherwise, as the Collector\'s health check v1',
  stability: 'beta',
  config: configSchema,
  validate,
  create: (settings, config) => new HealthCheck(settings, config),
});
