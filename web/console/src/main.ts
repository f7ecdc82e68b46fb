// The desk console (内勤工作台): Vue 3 + Element Plus, desktop, Chinese throughout.
import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import 'leaflet/dist/leaflet.css'
import '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css'
import App from './App.vue'
import { router } from './router'
import { showError } from './lib/api'

const app = createApp(App).use(ElementPlus, { locale: zhCn }).use(router)
// Whatever slips through a view's own handling still reaches the person as a sentence, not a stack.
app.config.errorHandler = (error) => showError(error)
window.addEventListener('unhandledrejection', (event) => { event.preventDefault(); showError(event.reason) })
app.mount('#app')
