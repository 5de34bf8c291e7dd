// uni storage behind get/set/remove, so page logic runs under Node with a Map.
export function uniStorage(u = typeof uni !== 'undefined' ? uni : globalThis.uni) {
  return {
    get(key, fallback = null) {
      try {
        const v = u.getStorageSync(key)
        return v === '' || v === undefined || v === null ? fallback : v
      } catch (err) {
        return fallback
      }
    },
    set(key, value) {
      try {
        u.setStorageSync(key, value)
      } catch (err) {
        console.warn('could not save', key, err) // full storage must not break chatting
      }
    },
    remove(key) {
      try {
        u.removeStorageSync(key)
      } catch (err) {
        /* nothing to remove */
      }
    },
  }
}

export function memoryStorage(initial = {}) {
  const map = new Map(Object.entries(initial))
  return {
    get: (key, fallback = null) => (map.has(key) ? map.get(key) : fallback),
    set: (key, value) => void map.set(key, value),
    remove: (key) => void map.delete(key),
    dump: () => Object.fromEntries(map),
  }
}
