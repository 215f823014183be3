import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['apps/**/src/**/*.test.ts', 'libs/**/src/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          // Real dockerd/mosquitto/hub processes on a 2-core machine: one file at a time,
          // and only after the unit project has finished (groupOrder).
          fileParallelism: false,
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
