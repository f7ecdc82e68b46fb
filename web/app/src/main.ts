// The field app (外勤): Vue 3 + Vant 4, offline-first (IndexedDB + a service worker).
import { createApp } from 'vue'
import {
  ActionSheet, Button, Cell, CellGroup, Checkbox, CheckboxGroup, Collapse, CollapseItem, Dialog, Empty, Field, Form, Icon,
  Loading, NavBar, NoticeBar, Popup, Radio, RadioGroup, Search, Tab, Tabbar, TabbarItem, Tabs, Tag,
} from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'
import { router } from './router'
import { registerWorker } from './sw'

const app = createApp(App).use(router)
// Only the components the app uses, so the shell stays small (README: app shell budget).
for (const component of [ActionSheet, Button, Cell, CellGroup, Checkbox, CheckboxGroup, Collapse, CollapseItem, Dialog,
  Empty, Field, Form, Icon, Loading, NavBar, NoticeBar, Popup, Radio, RadioGroup, Search, Tab, Tabbar, TabbarItem, Tabs, Tag])
  app.use(component)
app.mount('#app')
registerWorker()
