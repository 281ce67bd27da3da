import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is served by the admin listener and loaded by the Electron window from disk.
export default defineConfig({
  root: 'renderer',
  base: './',
  // hls.js (the preview player, loaded on demand as its own chunk) is about 580 kB minified.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 700 },
  esbuild: { jsx: 'automatic' },
  // The control contract, a leaf the core, the preload and the renderer share.
  resolve: {
    alias: { '@contract': fileURLToPath(new URL('../main/contract/contract.ts', import.meta.url)) },
  },
});
