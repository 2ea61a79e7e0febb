// The forward connector factory: traces->traces, metrics->metrics, logs->logs.
import { connectorFactory } from '../../pipeline/component';
import { configSchema, type ForwardConfig } from './config';
import { ForwardConnector } from './connector';

export const forwardConnectorFactory = connectorFactory<ForwardConfig>({
  kind: 'connector',
  type: 'forward',
  description: 'Passes data from the end of one pipeline to the start of others of the same signal',
  connects: [
    { from: 'traces', to: 'traces', stability: 'beta' },
    { from: 'metrics', to: 'metrics', stability: 'beta' },
    { from: 'logs', to: 'logs', stability: 'beta' },
  ],
  config: configSchema,
  create: (_settings, _config, from, next) => new ForwardConnector(from, next),
});
