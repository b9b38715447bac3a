// The browser build of @dropwatch/client for pages on other sites that load it with a plain
// <script> tag (it defines window.Dropwatch): a stable name, next to the dashboard's assets.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist/static',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: 'src/sdk-global.ts',
      formats: ['iife'],
      name: 'DropwatchClientBundle',
      fileName: () => 'dropwatch-client.js',
    },
  },
});
