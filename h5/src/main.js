import { createApp } from 'vue'
import 'vant/lib/index.css'
import './styles/base.css'
import App from './App.vue'
import { i18n } from './i18n/index.js'
import { router } from './router/index.js'
import { merchant, resident } from './api/client.js'

// A stored login is refreshed while the first page's code downloads (one round trip less on a slow network).
const session = location.pathname.startsWith('/h5/merchant') ? merchant : resident
session.resume()

createApp(App).use(i18n).use(router).mount('#app')

// The shell is cached for the home screen (never a resident's data: see public/sw.js).
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/h5/sw.js', { scope: '/h5/' }).catch(() => {})
  })
}
