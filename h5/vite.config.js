import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Home is the page most visits open, and its code is a route chunk the entry discovers only once it runs: on a
// slow network that is a round trip after the entry's. Preloading it from index.html fetches it beside the
// entry (the other pages stay on demand). Vite preloads the static imports of the entry only.
const FIRST_PAGE = 'src/views/resident/HomeView.vue'

function preloadFirstPage() {
  return {
    name: 'preload-first-page',
    apply: 'build',
    transformIndexHtml(html, { bundle }) {
      const chunks = Object.values(bundle).filter((item) => item.type === 'chunk')
      const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]))
      const page = chunks.find((chunk) => chunk.facadeModuleId?.endsWith(FIRST_PAGE))
      if (!page) throw new Error(`${FIRST_PAGE} is not a chunk of this build`)
      const entry = chunks.find((chunk) => chunk.isEntry)
      const files = new Set()
      const visit = (chunk) => {
        if (chunk === entry || files.has(chunk.fileName)) return
        files.add(chunk.fileName)
        chunk.imports.forEach((name) => visit(byName.get(name)))
      }
      visit(page)
      const css = [...files].flatMap((name) => [...(byName.get(name).viteMetadata?.importedCss ?? [])])
      return [
        ...[...files].map((file) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: '', href: `/h5/${file}` }, injectTo: 'head' })),
        // preloaded, not applied: the page applies its CSS when it mounts, and a login page is not held up by it
        ...css.map((file) => ({ tag: 'link', attrs: { rel: 'preload', as: 'style', crossorigin: '', href: `/h5/${file}` }, injectTo: 'head' })),
      ]
    },
  }
}

// Served by Flask at /h5/ (carbon_platform/h5.py). During `npm run dev`, /api goes to `make run`'s server.
export default defineConfig({
  base: '/h5/',
  plugins: [vue(), preloadFirstPage()],
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
