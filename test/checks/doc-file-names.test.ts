import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The map docs: every file they name must exist, or they send the reader nowhere. */
const MAP_DOCS = ['docs/architecture.md', 'docs/reliability.md'];

/** Folders of installed packages and of outputs, not of the repository. */
const SKIPPED = new Set(['node_modules', 'test-artifacts', 'dist']);

/** Every file of the repository by its path from the root (dotfiles included, dot folders not). */
function repositoryFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name) && !e.name.startsWith('.')) walk(rel);
        continue;
      }
      out.push(rel);
    }
  };
  walk('');
  return out;
}

/**
 * Source file names in backticks: `apps/hub/src/hub.ts`, `fold.ts`, `hub.Dockerfile`. Data
 * and config files (`world/nodes.json`, `hosts/policy.yaml`) live in a data root or a hosts
 * folder, not in the repository, so they are not checked.
 */
function fileNamesIn(markdown: string): string[] {
  return [...markdown.matchAll(/`([\w./-]+\.(?:ts|mjs|cjs|md|sh)|[\w.-]*Dockerfile)`/g)].map((m) => m[1]!);
}

describe('file names in the map docs', () => {
  it('reads backticked file names, not folders, topics or commands', () => {
    expect(fileNamesIn('`apps/hub/src/hub.ts` and `fold.ts`, `hub.Dockerfile`; not `web/`, `nodes/<node>/events`, `world/nodes.json` or `homelab up`')).toEqual(
      ['apps/hub/src/hub.ts', 'fold.ts', 'hub.Dockerfile'],
    );
  });

  it.each(MAP_DOCS)('%s names only files that exist (a full path, or the end of one)', (doc) => {
    const files = repositoryFiles();
    const exists = (name: string) => files.some((f) => f === name || f.endsWith(`/${name}`));
    const names = fileNamesIn(fs.readFileSync(path.join(ROOT, doc), 'utf8'));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !exists(n))).toEqual([]);
  });
});
