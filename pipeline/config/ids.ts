// Component and pipeline ids: `type` or `type/name`, checked like the Collector checks them.
import type { Kind } from '../component';

const TYPE = /^[A-Za-z][0-9A-Za-z_]{0,62}$/;
// No spaces, control characters or symbols (Unicode Z, C, S), as in the Collector.
const NAME = /^[^\p{Z}\p{C}\p{S}]{1,1024}$/u;

export interface ParsedId { type: string; name?: string }

/** The parsed id, or a message saying what is wrong with it. */
export function parseId(id: string): ParsedId | string {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  if (!TYPE.test(type)) {
    return `invalid id "${id}": the type must start with a letter and hold only letters, digits and "_" (at most 63)`;
  }
  if (slash < 0) return { type };
  const name = id.slice(slash + 1);
  if (name === '') return `invalid id "${id}": the name after "/" must not be empty`;
  if (!NAME.test(name)) return `invalid id "${id}": the name must not contain spaces, control characters or symbols`;
  return { type, name };
}

export const SECTIONS = {
  receivers: 'receiver',
  processors: 'processor',
  exporters: 'exporter',
  connectors: 'connector',
  extensions: 'extension',
} as const satisfies Record<string, Kind>;

export type Section = keyof typeof SECTIONS;
export const SECTION_OF: Record<Kind, Section> = {
  receiver: 'receivers', processor: 'processors', exporter: 'exporters', connector: 'connectors', extension: 'extensions',
};
