// The dashboard, built by `vite build` into dist/: index.html, content-hashed scripts and styles in
// dist/static/ (the server caches those for a year), and public/ (the service worker) at the root.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'static',
    sourcemap: true,
    target: 'es2022',
    // The server sends a CSP without 'unsafe-inline': nothing may be inlined into index.html.
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        entryFileNames: 'static/app-[hash].js',
        chunkFileNames: 'static/[name]-[hash].js',
        // The entry's stylesheet is app-<hash>.css beside app-<hash>.js.
        assetFileNames: (asset) =>
          asset.names.some((n) => n.endsWith('.css')) ? 'static/app-[hash][extname]' : 'static/[name]-[hash][extname]',
      },
    },
  },
});
