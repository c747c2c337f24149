// The department pages: paths, the role they need and their nav labels. The emergency page needs the
// EMERGENCY role, which overrides the area's DEPARTMENT (the router puts a route's own meta last).
export default [
  { path: '/dept/query', name: 'department-query', component: () => import('./QueryPage.vue'), meta: { nav: 'department.nav.query' } },
  { path: '/dept/sharing', name: 'department-sharing', component: () => import('./SharingPage.vue'), meta: { nav: 'department.nav.sharing' } },
  { path: '/dept/verifications', name: 'department-verifications', component: () => import('./VerificationsPage.vue'), meta: { nav: 'department.nav.verifications' } },
  { path: '/dept/suspensions', name: 'department-suspensions', component: () => import('./SuspensionsPage.vue'), meta: { nav: 'department.nav.suspensions' } },
  { path: '/dept/records', name: 'department-records', component: () => import('./RecordsPage.vue'), meta: { nav: 'department.nav.records' } },
  { path: '/dept/emergency', name: 'department-emergency', component: () => import('./EmergencyPage.vue'), meta: { nav: 'department.nav.emergency', role: 'EMERGENCY' } },
]
