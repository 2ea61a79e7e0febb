// The one list of every component Sonde ships. Adding a component = a folder + one line here.
import { healthCheckExtensionFactory } from './extensions/health_check';
import { pprofExtensionFactory } from './extensions/pprof';
import { zpagesExtensionFactory } from './extensions/zpages';
import type { Factory } from './pipeline/component';
import { Registry } from './pipeline/registry';

export const factories: readonly Factory[] = [
  // extensions
  healthCheckExtensionFactory,
  zpagesExtensionFactory,
  pprofExtensionFactory,
];

export function defaultRegistry(): Registry {
  return new Registry(factories);
}
