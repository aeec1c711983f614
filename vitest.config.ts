import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import what Node resolves: the SDK's `node` entry (REST + gRPC), a superset of the browser one.
    alias: {
      '@quiver/sdk/browser': src('sdk'),
      '@quiver/sdk': src('sdk').replace(/index\.ts$/, 'node.ts'),
      '@quiver/server': src('server'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
    allowOnly: !process.env.CI,
  },
});
