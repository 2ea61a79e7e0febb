// pprof: CPU and heap profiles of this Sonde in pprof format (default 127.0.0.1:1777).
import { extensionFactory } from '../../pipeline/component';
import { configSchema, validate } from './config';
import type { PprofConfig } from './config';
import { Pprof } from './pprof';

export const pprofExtensionFactory = extensionFactory<PprofConfig>({
  kind: 'extension',
  type: 'pprof',
  description: 'Serves /debug/pprof/profile and /debug/pprof/heap (gzipped pprof); save_to_file keeps a CPU profile of the whole run',
  stability: 'beta',
  config: configSchema,
  validate,
  create: (settings, config) => new Pprof(settings, config),
});
