import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is bundled from the SDK's source, so it needs no SDK build and ships only
// browser code (the SDK uses fetch, Web Streams and AbortSignal, no Node built-ins).
export default defineConfig({
  // Hashed assets live under /ui/assets; index.html itself is served at `/`.
  base: '/ui/',
  plugins: [react()],
  resolve: {
    alias: { '@quiver/sdk': fileURLToPath(new URL('../sdk/src/index.ts', import.meta.url)) },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  // `npm run dev`: the API of a running quiver (QUIVER_URL, default the local one) on the dev origin.
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/v2'].map((path) => [path, process.env.QUIVER_URL ?? 'http://127.0.0.1:8080']),
    ),
  },
});
