import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/HomeView.vue'

export const router = createRouter({
  history: createWebHistory('/open/'),
  routes: [
    { path: '/', component: HomeView, meta: { title: '安巡 公众服务' } },
    { path: '/report', component: () => import('./views/ReportView.vue'), meta: { title: '12350 安全生产举报' } },
    { path: '/track', component: () => import('./views/TrackView.vue'), meta: { title: '举报处理进度查询' } },
    { path: '/draws', component: () => import('./views/DrawsView.vue'), meta: { title: '双随机一公开' } },
    { path: '/:rest(.*)', redirect: '/' },
  ],
  scrollBehavior: () => ({ top: 0 }),
})
