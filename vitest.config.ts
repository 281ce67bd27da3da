import { defineConfig } from 'vitest/config';

// Two runs (`npm test` runs both): unit tests in parallel, in seconds; end-to-end tests start real processes
// (the appliance, ffmpeg, Chromium, nginx), so on a 2-core machine they run one file at a time, with generous
// timeouts.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
