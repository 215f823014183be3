import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['apps/**/src/**/*.test.ts', 'libs/**/src/**/*.test.ts', 'test/checks/**/*.test.ts'],
          // *.int.test.ts drive real daemons: they belong to the serial e2e project.
          exclude: ['**/node_modules/**', '**/*.int.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts', 'apps/**/src/**/*.int.test.ts', 'libs/**/src/**/*.int.test.ts'],
          // test/checks reads the source tree only: it runs with the unit tests.
          exclude: ['**/node_modules/**', 'test/checks/**'],
          // Real dockerd/mosquitto/hub processes on a 2-core machine: one file at a time
          // (fileParallelism is root-only in vitest 3.2, so a single fork per project),
          // and only after the unit project has finished (groupOrder).
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Project-level, so `--project unit` never starts a Docker daemon.
          globalSetup: ['test/setup/global-setup.ts'],
        },
      },
    ],
  },
});
