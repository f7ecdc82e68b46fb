import { createRouter, createWebHistory } from 'vue-router'
import LoginView from './views/LoginView.vue'
import { session } from './lib/session'
import { homePath } from './lib/roles'

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
    // The first tab of the person's roles; before login there are none to choose from.
    { path: '/', redirect: () => (session.value?.token ? homePath.value : '/login') },
    { path: '/tasks', component: () => import('./views/TasksView.vue'), meta: { tab: 'tasks' } },
    { path: '/plans', component: () => import('./views/PlansView.vue'), meta: { tab: 'plans' } },
    { path: '/enterprises', component: () => import('./views/EnterprisesView.vue'), meta: { tab: 'enterprises' } },
    { path: '/enterprises/:id', component: () => import('./views/EnterpriseView.vue'), meta: { tab: 'enterprises' } },
    { path: '/patrol', component: () => import('./views/PatrolView.vue'), meta: { tab: 'patrol' } },
    { path: '/patrol/visit/:id', component: () => import('./views/VisitView.vue'), meta: { tab: 'patrol' } },
    { path: '/hazards', component: () => import('./views/HazardsView.vue'), meta: { tab: 'hazards' } },
    { path: '/hazards/new', component: () => import('./views/HazardNewView.vue'), meta: { tab: 'hazards' } },
    { path: '/hazards/:id', component: () => import('./views/HazardView.vue'), meta: { tab: 'hazards' } },
    { path: '/inspect/:id', component: () => import('./views/InspectView.vue'), meta: { tab: 'enterprises' } },
    { path: '/outbox', component: () => import('./views/OutboxView.vue'), meta: { tab: 'outbox' } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.value?.token) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
})
