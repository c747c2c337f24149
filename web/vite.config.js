import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// Built into the API package, which serves it at /app/ (api/web.py) with a strict CSP: no inline script,
// so the module preload polyfill stays in the entry chunk, and nothing is fetched from elsewhere.
export default defineConfig({
  base: '/app/',
  plugins: [vue()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../api/webapp', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'charts'
          if (id.includes('node_modules/ethers') || id.includes('node_modules/@noble')) return 'ethers'
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'ui'
          if (id.includes('node_modules/')) return 'vendor'
        },
      },
    },
  },
  server: { proxy: Object.fromEntries(['/v1', '/log', '/app/config.json'].map((p) => [p, process.env.CONSENT_LEDGER_API_URL ?? 'http://127.0.0.1:8000'])) },
  test: { environment: 'happy-dom', include: ['src/**/*.test.js'] },
})
