import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Served by Flask at /h5/ (carbon_platform/h5.py). During `npm run dev`, /api goes to `make run`'s server.
export default defineConfig({
  base: '/h5/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // dist/.vite/manifest.json: which chunks the entry imports statically and which are loaded on demand
    // (tests/h5/test_quality.py checks the first screen's gzip budget and that every page is its own chunk).
    manifest: true,
    assetsInlineLimit: 4096,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:5000' },
  },
})
