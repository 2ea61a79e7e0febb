// The set of factories the engine can build from. Filled by components.ts; a duplicate type or
// alias is a programming error and throws at start-up.
import type { Factory, Kind } from './component';

export class Registry {
  private readonly byKind = new Map<Kind, Map<string, { factory: Factory; deprecated: boolean }>>();

  constructor(factories: readonly Factory[]) {
    for (const f of factories) {
      this.add(f, f.type, false);
      for (const a of f.aliases ?? []) this.add(f, a, false);
      for (const a of f.deprecatedAliases ?? []) this.add(f, a, true);
    }
  }

  private add(factory: Factory, name: string, deprecated: boolean): void {
    let m = this.byKind.get(factory.kind);
    if (!m) this.byKind.set(factory.kind, (m = new Map()));
    if (m.has(name)) throw new Error(`duplicate ${factory.kind} type "${name}"`);
    m.set(name, { factory, deprecated });
  }

  /** The factory for a type as written in YAML (its name or an alias). */
  lookup(kind: Kind, type: string): { factory: Factory; deprecated: boolean } | undefined {
    return this.byKind.get(kind)?.get(type);
  }

  /** Every name accepted for a kind (for "did you mean"). */
  names(kind: Kind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])];
  }

  /** Each factory once, in registration order. */
  factories(kind?: Kind): Factory[] {
    const out = new Set<Factory>();
    for (const [k, m] of this.byKind) {
      if (kind && k !== kind) continue;
      for (const { factory } of m.values()) out.add(factory);
    }
    return [...out];
  }
}
