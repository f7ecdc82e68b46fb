// Builds the three web apps, each with its own base path and bundle, into web/dist/<entry>/ (scripts/web.sh).
// /app/ is the offline-first field app: its service worker (vite-plugin-pwa, Workbox) precaches the
// shell and caches thumbnails and checklists; /console/ and /open/ are ordinary pages.
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import vue from '@vitejs/plugin-vue'
import { VitePWA } from 'vite-plugin-pwa'

const here = fileURLToPath(new URL('.', import.meta.url))
const only = process.argv.slice(2)
const entries = ['app', 'console', 'open'].filter((e) => only.length === 0 || only.includes(e))

function fieldAppWorker() {
  return VitePWA({
    registerType: 'autoUpdate',
    injectRegister: null, // app/src/sw.ts registers it, after the page has drawn
    manifest: {
      name: '安巡 外勤',
      short_name: '安巡',
      description: '网格员、执法人员、企业安全员的离线外勤应用',
      lang: 'zh-CN',
      start_url: '/app/',
      scope: '/app/',
      display: 'standalone',
      background_color: '#f7f8fa',
      theme_color: '#1989fa',
      icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
    },
    workbox: {
      globPatterns: ['**/*.{js,css,html,svg,png,woff2}'],
      navigateFallback: '/app/index.html',
      navigateFallbackDenylist: [/^\/api\//],
      cleanupOutdatedCaches: true,
      runtimeCaching: [
        {
          // Thumbnails are immutable (content-addressed): once seen, shown offline.
          urlPattern: ({ url }) => /^\/api\/v1\/photos\/[0-9a-f]{64}\/thumb$/.test(url.pathname),
          handler: 'CacheFirst',
          options: { cacheName: 'anxun-thumbs', expiration: { maxEntries: 500 }, cacheableResponse: { statuses: [200] } },
        },
        {
          // Checklist templates: the network when there is one, the last answer when not.
          urlPattern: ({ url }) => url.pathname.startsWith('/api/v1/checklists'),
          handler: 'NetworkFirst',
          options: { cacheName: 'anxun-checklists', networkTimeoutSeconds: 5, cacheableResponse: { statuses: [200] } },
        },
      ],
    },
  })
}

for (const entry of entries) {
  await build({
    configFile: false,
    root: `${here}${entry}`,
    base: `/${entry}/`,
    publicDir: `${here}public`, // the icon, shared by the three
    logLevel: 'warn',
    resolve: { alias: { '@shared': `${here}shared` } },
    plugins: [vue(), ...(entry === 'app' ? [fieldAppWorker()] : [])],
    build: {
      outDir: `${here}dist/${entry}`,
      emptyOutDir: true,
      chunkSizeWarningLimit: 2000,
      reportCompressedSize: false,
    },
  })
  console.log(`[web] built /${entry}/ into web/dist/${entry}`)
}
