// Registers the service worker vite-plugin-pwa builds (app shell precache, thumbnails, checklists),
// so the page comes back without a network. A new version takes over at the next load.
import { registerSW } from 'virtual:pwa-register'

export function registerWorker(): void {
  if (!('serviceWorker' in navigator)) return
  registerSW({ immediate: true })
}
