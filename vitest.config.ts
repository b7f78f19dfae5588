import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'shared/src/**/*.spec.ts',
            'hub/src/**/*.spec.ts',
            'edge-agent/src/**/*.spec.ts',
            'test/simulator/**/*.spec.ts',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Files share two cores with PostgreSQL, Redis and Mosquitto: a little parallelism, not a stampede.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
