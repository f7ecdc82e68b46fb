// The public pages (公众服务): 12350 reports and the 双随机一公开 publication, no login. A stub for now.
import { createApp } from 'vue'
import { Cell, CellGroup, NavBar } from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'

createApp(App).use(NavBar).use(Cell).use(CellGroup).mount('#app')
