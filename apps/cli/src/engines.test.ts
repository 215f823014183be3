import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));

describe('declared Node.js engines', () => {
  it('are supported by every package the lockfile installs, so npm ci never warns EBADENGINE', () => {
    const declared: string = readJson('package.json').engines.node;
    const lock = readJson('package-lock.json') as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const unsupported = Object.entries(lock.packages)
      .filter(([name, pkg]) => name !== '' && !Array.isArray(pkg.engines) && pkg.engines?.node !== undefined)
      .filter(([, pkg]) => !semver.subset(declared, (pkg.engines as { node: string }).node))
      .map(([name, pkg]) => `${name.replace(/^.*node_modules\//, '')} needs node ${(pkg.engines as { node: string }).node}`);
    expect(unsupported).toEqual([]);
  });

  it('include the Node.js running the tests', () => {
    expect(semver.satisfies(process.version, readJson('package.json').engines.node)).toBe(true);
  });
});
