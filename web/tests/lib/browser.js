// What the browser tests share: Chromium's offline flags and the two screen sizes every screen is shot at.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }
