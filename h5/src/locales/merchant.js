// The words of the merchant staff pages (namespace 'merchant').
export default {
  'zh-CN': { title: '商户核销', tabs: { scan: '扫码核销', today: '今日' } },
  en: { title: 'Merchant scanner', tabs: { scan: 'Scan', today: 'Today' } },
}
