// file_storage: local-disk storage for persistent sending queues (`sending_queue.storage`).
import { extensionFactory } from '../../pipeline/component';
import { configSchema, type FileStorageConfig } from './config';
import { FileStorage } from './file_storage';

export const fileStorageExtensionFactory = extensionFactory<FileStorageConfig>({
  kind: 'extension',
  type: 'file_storage',
  description: 'Local-disk storage for persistent sending queues: batches survive restarts and SIGKILL',
  stability: 'alpha',
  config: configSchema,
  create: (settings, config) => new FileStorage(settings, config),
});
