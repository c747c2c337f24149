// Messages shared by every page: the frame, sign-in, and the API's error codes in plain words.
export default {
  'zh-CN': {
    app: { title: '政务数据授权与审计账本', short: '授权账本', skip: '跳到正文', language: 'English', languageLabel: '切换语言' },
    nav: { home: '首页', citizen: '我的授权', department: '部门工作台', regulator: '监管工作台', admin: '数据主管部门', signIn: '登录', signOut: '退出' },
    roles: { ADMIN: '数据主管部门', DEPARTMENT: '政务部门', REGULATOR: '监管部门', EMERGENCY: '应急责任人', IDENTITY_ATTESTER: '实名核验方', SUBJECT: '自然人或法人' },
    signIn: {
      title: '登录', intro: '用您自己的密钥签名登录（Sign-In with Ethereum）。密钥只留在本浏览器中，以您的密码加密保存，从不发送到服务器。',
      keystore: '导入密钥文件', keystoreFile: '密钥文件（Web3 Secret Storage JSON）', password: '密码',
      hex: '粘贴私钥（仅限开发链）', hexKey: '十六进制私钥', newPassword: '设置本机加密密码',
      unlock: '解锁本机保存的密钥', unlockFor: '本机保存的密钥：{address}', forget: '删除本机密钥',
      wallet: '使用浏览器钱包', submit: '签名登录', opening: '正在解密密钥…', signing: '正在签名登录…',
      expired: '登录已过期，请重新解锁。', devnetOnly: '仅在开发链上可用', wrongPassword: '密码不正确，无法解密密钥。',
    },
    home: { welcome: '欢迎，{address}', choose: '请选择工作台', noRole: '您的账户没有部门或监管角色；作为数据主体，您可以管理自己的授权。' },
    common: {
      loading: '加载中…', retry: '重试', refresh: '刷新', cancel: '取消', confirm: '确认', close: '关闭', submit: '提交', save: '保存',
      sign: '签名', signAndSubmit: '签名并提交', yes: '是', no: '否', none: '无', details: '详情', actions: '操作', status: '状态',
      time: '时间', due: '期限', overdue: '已逾期', empty: '暂无数据', copied: '已复制', copy: '复制', download: '下载', next: '下一页', previous: '上一页',
    },
    error: { title: '操作未成功', code: '错误代码', NETWORK: '无法连接服务器' },
  },
  en: {
    app: { title: 'Consent Ledger for government data sharing', short: 'Consent Ledger', skip: 'Skip to content', language: '中文', languageLabel: 'Switch language' },
    nav: { home: 'Home', citizen: 'My consents', department: 'Department console', regulator: 'Regulator console', admin: 'Data authority', signIn: 'Sign in', signOut: 'Sign out' },
    roles: { ADMIN: 'Data authority', DEPARTMENT: 'Department', REGULATOR: 'Regulator', EMERGENCY: 'Emergency officer', IDENTITY_ATTESTER: 'Identity attester', SUBJECT: 'Citizen or enterprise' },
    signIn: {
      title: 'Sign in', intro: 'Sign in by signing with your own key (Sign-In with Ethereum). The key stays in this browser, encrypted with your password, and is never sent to the server.',
      keystore: 'Import a keystore file', keystoreFile: 'Keystore file (Web3 Secret Storage JSON)', password: 'Password',
      hex: 'Paste a private key (devnet only)', hexKey: 'Hex private key', newPassword: 'Password to encrypt it in this browser',
      unlock: 'Unlock the key kept in this browser', unlockFor: 'Key kept in this browser: {address}', forget: 'Forget this key',
      wallet: 'Use a browser wallet', submit: 'Sign in', opening: 'Opening the key…', signing: 'Signing in…',
      expired: 'Your session expired; unlock again.', devnetOnly: 'Only on the devnet', wrongPassword: 'Wrong password: the key could not be decrypted.',
    },
    home: { welcome: 'Welcome, {address}', choose: 'Choose a console', noRole: 'Your account has no department or regulator role; as a data subject you manage your own consents.' },
    common: {
      loading: 'Loading…', retry: 'Retry', refresh: 'Refresh', cancel: 'Cancel', confirm: 'Confirm', close: 'Close', submit: 'Submit', save: 'Save',
      sign: 'Sign', signAndSubmit: 'Sign and submit', yes: 'Yes', no: 'No', none: 'None', details: 'Details', actions: 'Actions', status: 'Status',
      time: 'Time', due: 'Due', overdue: 'Overdue', empty: 'Nothing here yet', copied: 'Copied', copy: 'Copy', download: 'Download', next: 'Next', previous: 'Previous',
    },
    error: { title: 'That did not work', code: 'Error code', NETWORK: 'The server could not be reached' },
  },
}
