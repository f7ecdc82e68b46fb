// The console's pages; every page but the login needs a desk officer's or an admin's session.
import { createRouter, createWebHistory } from 'vue-router'
import { state } from './lib/api'

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { title: '登录' } },
    { path: '/', redirect: '/people' },
    { path: '/people', component: () => import('./views/PeopleView.vue'), meta: { title: '人员管理' } },
    { path: '/grids', component: () => import('./views/GridsView.vue'), meta: { title: '网格地图' } },
    { path: '/ledger', component: () => import('./views/LedgerView.vue'), meta: { title: '隐患台账' } },
    { path: '/figures', component: () => import('./views/FiguresView.vue'), meta: { title: '月度统计' } },
    { path: '/enterprises', component: () => import('./views/EnterprisesView.vue'), meta: { title: '一企一档' } },
    { path: '/plans', component: () => import('./views/PlansView.vue'), meta: { title: '计划与抽查' } },
    { path: '/tasks', component: () => import('./views/TasksView.vue'), meta: { title: '任务' } },
    { path: '/:rest(.*)*', redirect: '/people' },
  ],
})

router.beforeEach((to) => {
  if (to.path !== '/login' && !state.session) return { path: '/login', query: { next: to.fullPath } }
  if (to.path === '/login' && state.session) return { path: '/people' }
  return true
})
