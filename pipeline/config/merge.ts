// Several --config files merge in order, later wins: mappings merge key by key (deeply), lists
// and scalars are replaced whole. Each value keeps the position of the file that set it.
import type { Entry, Node } from './positions';

export function mergeNodes(base: Node, over: Node): Node {
  if (base.kind === 'map' && over.kind === 'map') {
    const entries = new Map<string, Entry>(base.entries);
    for (const [key, e] of over.entries) {
      const prev = entries.get(key);
      entries.set(key, prev ? { keyPos: e.keyPos, value: mergeNodes(prev.value, e.value) } : e);
    }
    return { kind: 'map', pos: over.pos, entries };
  }
  // `otlp:` with no value means "on, with defaults": it adds nothing to an earlier mapping.
  if (base.kind === 'map' && over.kind === 'scalar' && over.value === null) return base;
  return over;
}
