// Pages by path under /app/. Each area lists its routes with the role they need (meta.role; 'SUBJECT' means a
// signed-in key with no institution's role, since a subject's signer holds no Participants role); a page
// needing a role the session lacks sends the user to sign in or home.
import { createRouter, createWebHistory } from 'vue-router'
import admin from './areas/admin/routes.js'
import citizen from './areas/citizen/routes.js'
import department from './areas/department/routes.js'
import regulator from './areas/regulator/routes.js'
import { session } from './session.js'
import Home from './views/Home.vue'
import SignIn from './views/SignIn.vue'

export const AREAS = [
  { key: 'citizen', role: 'SUBJECT', routes: citizen },
  { key: 'department', role: 'DEPARTMENT', routes: department },
  { key: 'regulator', role: 'REGULATOR', routes: regulator },
  { key: 'admin', role: 'ADMIN', routes: admin },
]

// A key that holds an institution's role signs for that institution, not as a citizen or an enterprise.
const INSTITUTIONAL = ['ADMIN', 'DEPARTMENT', 'REGULATOR', 'IDENTITY_ATTESTER', 'EMERGENCY']

export function mayEnter(role) {
  if (!session.token) return false
  if (role === 'SUBJECT') return !session.roles.some((r) => INSTITUTIONAL.includes(r))
  return !role || session.roles.includes(role)
}

/** The tabs of ``area`` the session may open (a route's own meta.role overrides its area's). */
export function tabsOf(area) {
  return area.routes.filter((r) => r.meta?.nav && mayEnter(r.meta.role ?? area.role))
}

/** The areas with at least one tab the session may open. */
export function openAreas() {
  return AREAS.filter((a) => tabsOf(a).length)
}

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/', name: 'home', component: Home },
    { path: '/sign-in', name: 'sign-in', component: SignIn, meta: { public: true } },
    ...AREAS.flatMap((area) => area.routes.map((r) => ({ ...r, meta: { role: area.role, area: area.key, ...r.meta } }))),
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.token) return { name: 'sign-in', query: { next: to.fullPath } }
  if (!mayEnter(to.meta.role)) return { name: 'home' }
  return true
})
