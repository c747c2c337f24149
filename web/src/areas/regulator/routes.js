// The regulator pages: paths, the role they need and their nav labels.
export default [
  { path: '/reg/verify', name: 'regulator-verify', component: () => import('./VerifyPage.vue'), meta: { nav: 'regulator.nav.verify' } },
  { path: '/reg/anchors', name: 'regulator-anchors', component: () => import('./AnchorsPage.vue'), meta: { nav: 'regulator.nav.anchors' } },
  { path: '/reg/overdue', name: 'regulator-overdue', component: () => import('./OverduePage.vue'), meta: { nav: 'regulator.nav.overdue' } },
  { path: '/reg/emergencies', name: 'regulator-emergencies', component: () => import('./EmergenciesPage.vue'), meta: { nav: 'regulator.nav.emergencies' } },
  { path: '/reg/charts', name: 'regulator-charts', component: () => import('./ChartsPage.vue'), meta: { nav: 'regulator.nav.charts' } },
  { path: '/reg/entries/:seq(\\d+)', name: 'regulator-entry', component: () => import('./EntryPage.vue'), props: true },
]
