// Builds the renderer into dist/renderer at the repo root. The gateway serves it at
// /ui/ in headless mode; base '/ui/' makes every asset URL absolute under that prefix.
// No inline scripts or styles end up in the output, so the page runs under a strict CSP.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    // Keep every asset a file: data: URLs would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
