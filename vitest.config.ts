import { defineConfig } from 'vitest/config';

// End-to-end tests start real processes (the appliance, ffmpeg, Chromium): on a
// 2-core machine they run one file at a time, and get generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
