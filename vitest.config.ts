import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real worker threads start through tsx when running from source: allow for it.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests with real threads measure timing; two files at once on two cores would starve them.
    fileParallelism: false,
    reporters: ['default'],
  },
});
