// The citizen pages: paths, the role they need and their nav labels.
export default [
  { path: '/me/consents', name: 'citizen-consents', component: () => import('./ConsentsPage.vue'), meta: { nav: 'citizen.nav.consents' } },
  { path: '/me/consents/new', name: 'citizen-new-consent', component: () => import('./NewConsentPage.vue'), meta: { nav: 'citizen.nav.newConsent' } },
  { path: '/me/access', name: 'citizen-access', component: () => import('./AccessPage.vue'), meta: { nav: 'citizen.nav.access' } },
  { path: '/me/objections', name: 'citizen-objections', component: () => import('./ObjectionsPage.vue'), meta: { nav: 'citizen.nav.objections' } },
  { path: '/me/notifications', name: 'citizen-notifications', component: () => import('./NotificationsPage.vue'), meta: { nav: 'citizen.nav.notifications' } },
]
