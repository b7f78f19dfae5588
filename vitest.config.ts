import { defineConfig } from 'vitest/config';

/**
 * Files that stream real RTSP video through ffmpeg, or start the whole system: they measure time-sensitive things
 * (fps, freeze detection, heartbeats) and need the two cores to themselves, so they run one at a time after the rest.
 */
const SERIAL = [
  'test/integration/agent-health.test.ts',
  'test/integration/agent-health-hub.test.ts',
  'test/integration/simulator.test.ts',
  'test/integration/demo.test.ts',
];

const integration = {
  environment: 'node' as const,
  globalSetup: ['test/integration/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // The default report, then missing dependencies (if any) and the plain tally CI reads as the last line.
    reporters: ['default', './test/support/dependency-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          // Projects run one after another: fast unit specs first, then the tiers that share the real services.
          sequence: { groupOrder: 0 },
          include: [
            'shared/src/**/*.spec.ts',
            'hub/src/**/*.spec.ts',
            'edge-agent/src/**/*.spec.ts',
            'test/simulator/**/*.spec.ts',
            'test/support/**/*.spec.ts',
            'test/e2e/**/*.spec.ts',
            'hub/console/src/**/*.spec.ts',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          exclude: SERIAL,
          ...integration,
          // Files share two cores with PostgreSQL, Redis and Mosquitto: a little parallelism, not a stampede.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
      {
        test: {
          name: 'serial',
          sequence: { groupOrder: 2 },
          include: SERIAL,
          ...integration,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 3 },
          // The console in a real headless Chromium against a real hub, agent and simulator.
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
