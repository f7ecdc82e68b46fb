// The public pages (公众服务), no login: 12350 reports with a tracking code, and the 双随机一公开 publication.
import { createApp } from 'vue'
import {
  Button, Cell, CellGroup, Collapse, CollapseItem, Empty, Field, Form, Icon, Loading, NavBar, Progress,
  Tab, Tabs, Tabbar, TabbarItem, Tag, Uploader,
} from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'
import { router } from './router'

const app = createApp(App)
for (const component of [Button, Cell, CellGroup, Collapse, CollapseItem, Empty, Field, Form, Icon, Loading, NavBar,
  Progress, Tab, Tabs, Tabbar, TabbarItem, Tag, Uploader]) app.use(component)
app.use(router).mount('#app')
