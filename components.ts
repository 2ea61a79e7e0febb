// The one list of every component Sonde ships. Adding a component = a folder + one line here.
import type { Factory } from './pipeline/component';
import { Registry } from './pipeline/registry';

export const factories: readonly Factory[] = [
];

export function defaultRegistry(): Registry {
  return new Registry(factories);
}
