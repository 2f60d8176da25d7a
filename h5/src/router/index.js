// Every page of the client, loaded on demand (one chunk per page). `audience` says whose login a page needs;
// `tabs` which tab bar it shows. History mode under /h5/: Flask answers index.html for these paths.
import { createRouter, createWebHistory } from 'vue-router'
import { merchant, resident } from '../api/client.js'

const R = 'resident'
const M = 'merchant'

export const routes = [
  // Residents
  { path: '/login', name: 'login', component: () => import('../views/resident/LoginView.vue'), meta: { public: true } },
  { path: '/welcome', name: 'welcome', component: () => import('../views/resident/WelcomeView.vue'), meta: { audience: R } },
  { path: '/', name: 'home', component: () => import('../views/resident/HomeView.vue'), meta: { audience: R, tabs: R } },
  { path: '/report', name: 'report', component: () => import('../views/resident/ReportCatalogueView.vue'), meta: { audience: R, tabs: R } },
  { path: '/report/:scenario', name: 'report-form', component: () => import('../views/resident/ReportFormView.vue'), meta: { audience: R } },
  { path: '/actions', name: 'actions', component: () => import('../views/resident/ActionsView.vue'), meta: { audience: R } },
  { path: '/actions/:id', name: 'action', component: () => import('../views/resident/ActionDetailView.vue'), meta: { audience: R } },
  { path: '/bindings', name: 'bindings', component: () => import('../views/resident/BindingsView.vue'), meta: { audience: R } },
  { path: '/household', name: 'household', component: () => import('../views/resident/HouseholdView.vue'), meta: { audience: R } },
  { path: '/mall', name: 'mall', component: () => import('../views/resident/MallView.vue'), meta: { audience: R, tabs: R } },
  { path: '/mall/:id', name: 'reward', component: () => import('../views/resident/RewardView.vue'), meta: { audience: R } },
  { path: '/checkin', name: 'checkin', component: () => import('../views/resident/CheckinView.vue'), meta: { audience: R } },
  { path: '/vouchers', name: 'vouchers', component: () => import('../views/resident/VouchersView.vue'), meta: { audience: R } },
  { path: '/vouchers/:id', name: 'voucher', component: () => import('../views/resident/VoucherView.vue'), meta: { audience: R } },
  { path: '/me', name: 'me', component: () => import('../views/resident/MeView.vue'), meta: { audience: R, tabs: R } },
  { path: '/history', name: 'history', component: () => import('../views/resident/HistoryView.vue'), meta: { audience: R } },
  { path: '/privacy', name: 'privacy', component: () => import('../views/resident/PrivacyView.vue'), meta: { audience: R } },
  { path: '/settings', name: 'settings', component: () => import('../views/resident/SettingsView.vue'), meta: { public: true } },
  // Merchant staff
  { path: '/merchant/login', name: 'merchant-login', component: () => import('../views/merchant/LoginView.vue'), meta: { public: true } },
  { path: '/merchant', name: 'merchant-scan', component: () => import('../views/merchant/ScanView.vue'), meta: { audience: M, tabs: M } },
  { path: '/merchant/today', name: 'merchant-today', component: () => import('../views/merchant/TodayView.vue'), meta: { audience: M, tabs: M } },
  { path: '/merchant/scenes', name: 'merchant-scenes', component: () => import('../views/merchant/ScenesView.vue'), meta: { audience: M, tabs: M } },
  { path: '/:missing(.*)*', name: 'missing', component: () => import('../views/NotFoundView.vue'), meta: { public: true } },
]

export const router = createRouter({
  history: createWebHistory('/h5/'),
  routes,
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
})

router.beforeEach((to) => {
  if (to.meta.audience === R && !resident.mayBeLoggedIn) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.audience === M && !merchant.mayBeLoggedIn) return { name: 'merchant-login', query: { next: to.fullPath } }
  return true
})

resident.onLogout(() => {
  if (router.currentRoute.value.meta.audience === R) router.replace({ name: 'login' })
})
merchant.onLogout(() => {
  if (router.currentRoute.value.meta.audience === M) router.replace({ name: 'merchant-login' })
})
