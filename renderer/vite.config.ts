import { defineConfig } from 'vite';

// The dashboard is served by the admin listener and loaded by the Electron window from disk.
export default defineConfig({
  root: 'renderer',
  base: './',
  build: { outDir: 'dist', emptyOutDir: true },
  esbuild: { jsx: 'automatic' },
});
