// Import rules, checked by `npm run check:imports` (part of `npm test`); docs/architecture.md
// "Boundaries" says what each rule protects.
//
// A package's public surface is its package.json `exports` map; everything else under its
// src/ is internal. Packages import each other by name only (`@homelab/x`, `@homelab/x/testing`),
// never by a relative path into another package's folder.

/** Files that exist only for tests: they may use devDependencies. */
const TEST_ONLY = ['\\.test\\.ts$', '/testing/', '/testing\\.ts$', '/test-[a-z-]+\\.ts$', '/codec-fuzz\\.ts$'];

/** A workspace package reached by name resolves through its node_modules link. */
const pkg = (...names) => `^(${names.map((n) => `node_modules/@homelab/${n}/`).join('|')})`;

module.exports = {
  forbidden: [
    {
      name: 'agent-not-hub',
      severity: 'error',
      comment: 'The node agent runs on every Docker host without the hub; they share only libs/contracts.',
      from: { path: '^apps/node-agent/' },
      to: { path: ['^apps/hub/', pkg('hub')] },
    },
    {
      name: 'hub-not-agent',
      severity: 'error',
      comment: 'The hub talks to agents over MQTT only; what both sides need lives in libs/contracts.',
      from: { path: '^apps/hub/' },
      to: { path: ['^apps/node-agent/', pkg('node-agent')] },
    },
    {
      name: 'libs-not-apps',
      severity: 'error',
      comment: 'Libraries sit below the apps: an app may use a lib, never the other way round.',
      from: { path: '^libs/' },
      to: { path: ['^apps/', pkg('hub', 'node-agent', 'cli')] },
    },
    {
      name: 'no-relative-import-across-packages',
      severity: 'error',
      comment:
        "A package reaches another only by its name (@homelab/x), which resolves through that package's exports; " +
        'a relative path into another package would reach its internals and skip its declared dependencies.',
      from: { path: '^(apps|libs)/([^/]+)/' },
      to: { path: '^(apps|libs)/', pathNot: '^$1/$2/' },
    },
    {
      name: 'tests-not-into-internals',
      severity: 'error',
      comment:
        'The repository-level tests, benchmarks and scripts use packages by name only: what a package exports ' +
        '(`@homelab/x`, test helpers under `@homelab/x/testing`), never a file under its src/.',
      from: { path: '^(test|deploy)/' },
      to: { path: '^(apps|libs)/' },
    },
    {
      name: 'declared-dependencies',
      severity: 'error',
      comment:
        'Every npm or workspace package a file imports is declared in the package.json nearest to it ' + '(apps/*, libs/*, or the root for test/ and deploy/).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-dev-dependencies-in-production-code',
      severity: 'error',
      comment: "A package's running code uses its dependencies only; devDependencies (vitest, @homelab/testkit) are for its test files.",
      from: { path: '^(apps|libs)/', pathNot: TEST_ONLY },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'An import that does not resolve, e.g. a deep path a package does not export.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Workspace packages then resolve to node_modules/@homelab/<name>/..., so depcruise checks
    // them against the importing package's package.json like any npm package.
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
    cache: false,
  },
};
