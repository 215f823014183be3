import { z } from 'zod';
import { NodeName } from '@homelab/contracts';

/**
 * NODE_ALIAS_MAP (docs/node-aliases.md): the node name an agent
 * runs under → the canonical node name of the topology (`hosts/<node>/`).
 * One step only: a canonical name is never itself an alias, so every name
 * resolves the same way wherever it is looked up.
 */
export const NodeAliasRecord = z.record(NodeName, NodeName).superRefine((rec, ctx) => {
  for (const [alias, canonical] of Object.entries(rec)) {
    if (alias === canonical) ctx.addIssue({ code: 'custom', path: [alias], message: `maps ${alias} to itself; leave it out` });
    else if (Object.hasOwn(rec, canonical)) {
      ctx.addIssue({
        code: 'custom',
        path: [alias],
        message: `${alias} → ${canonical}, but ${canonical} is an alias too (→ ${rec[canonical]}); map ${alias} to the final name`,
      });
    }
  }
});

/** The NODE_ALIAS_MAP environment variable: a JSON object like {"node-1":"piha"}. */
export const NodeAliasMap = z
  .string()
  .transform((s, ctx) => {
    let json: unknown;
    try {
      json = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object like {"node-1":"piha"}' });
      return z.NEVER;
    }
    // zod's record skips this key without a word; say so instead of losing the entry.
    if (json && typeof json === 'object' && Object.hasOwn(json, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: '__proto__ is not a node name' });
      return z.NEVER;
    }
    return json;
  })
  .pipe(NodeAliasRecord);

/**
 * The alias map as lookups that only ever see the map's own entries: a node
 * called `constructor` or `__proto__` is just a name, never a property of
 * Object.prototype.
 */
export class NodeAliases {
  static readonly none = new NodeAliases({});
  private readonly toCanonical: ReadonlyMap<string, string>;
  private readonly byCanonical: ReadonlyMap<string, readonly string[]>;

  constructor(record: Readonly<Record<string, string>>) {
    this.toCanonical = new Map(Object.entries(record));
    const by = new Map<string, string[]>();
    for (const [alias, canonical] of [...this.toCanonical].sort(([a], [b]) => a.localeCompare(b))) {
      by.set(canonical, [...(by.get(canonical) ?? []), alias]);
    }
    this.byCanonical = by;
  }

  get empty(): boolean {
    return this.toCanonical.size === 0;
  }

  /** The canonical name of a node as an agent names itself (the name itself when it is no alias). */
  canonical(node: string): string {
    return this.toCanonical.get(node) ?? node;
  }

  /** The aliases that map to `canonical`, sorted. */
  aliasesOf(canonical: string): readonly string[] {
    return this.byCanonical.get(canonical) ?? [];
  }

  /** Every name an agent of this canonical node may run under: the name itself, then its aliases. */
  agentNames(canonical: string): string[] {
    return [canonical, ...this.aliasesOf(canonical)];
  }
}
