// zpages: live HTML/JSON pages about this Sonde (default 127.0.0.1:55679).
import { extensionFactory } from '../../pipeline/component';
import { configSchema, validate } from './config';
import type { ZPagesConfig } from './config';
import { ZPages } from './zpages';

export const zpagesExtensionFactory = extensionFactory<ZPagesConfig>({
  kind: 'extension',
  type: 'zpages',
  description: 'Serves /debug/servicez, /debug/pipelinez and /debug/componentz (HTML, or JSON with ?format=json)',
  stability: 'beta',
  config: configSchema,
  validate,
  create: (settings, config) => new ZPages(settings, config),
});
