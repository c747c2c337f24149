// The admin pages: paths, the role they need and their nav labels. Subjects are registered by the identity
// attester with its own key, so that page needs IDENTITY_ATTESTER rather than the area's ADMIN.
export default [
  { path: '/admin/departments', name: 'admin-departments', component: () => import('./DepartmentsPage.vue'), meta: { nav: 'admin.nav.departments' } },
  { path: '/admin/resources', name: 'admin-resources', component: () => import('./ResourcesPage.vue'), meta: { nav: 'admin.nav.resources' } },
  { path: '/admin/subjects', name: 'admin-subjects', component: () => import('./SubjectsPage.vue'), meta: { nav: 'admin.nav.subjects', role: 'IDENTITY_ATTESTER' } },
  { path: '/admin/objections', name: 'admin-objections', component: () => import('./ObjectionsPage.vue'), meta: { nav: 'admin.nav.objections' } },
]
