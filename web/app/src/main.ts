// The field app (外勤): Vue 3 + Vant 4, offline-first (IndexedDB + a service worker).
import { createApp } from 'vue'
import 'vant/lib/index.css'
import App from './App.vue'
import { router } from './router'
import { registerWorker } from './sw'

createApp(App).use(router).mount('#app')
registerWorker()
