// Whether the window is phone-narrow, kept up to date (for components that take a column count, not CSS).
import { onBeforeUnmount, ref } from 'vue'

export function useNarrowScreen(maxWidth = 640) {
  const query = window.matchMedia(`(max-width: ${maxWidth}px)`)
  const narrow = ref(query.matches)
  const update = () => { narrow.value = query.matches }
  query.addEventListener('change', update)
  onBeforeUnmount(() => query.removeEventListener('change', update))
  return narrow
}
