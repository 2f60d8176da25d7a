export default {
  'zh-CN': { title: '页面不存在', body: '您要找的页面不存在或已移走。', home: '回到首页' },
  en: { title: 'Page not found', body: 'The page you are looking for does not exist or has moved.', home: 'Go to home' },
}
