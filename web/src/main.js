import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from './i18n.js'
import { router } from './router.js'
import './style.css'

createApp(App).use(i18n).use(router).use(ElementPlus).mount('#app')
