// Module resolve hook: @core/x.js -> static/js/core/x.js (the chat core shared with the page).
const CORE = new URL('../../../static/js/core/', import.meta.url)

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@core/')) return next(new URL(specifier.slice('@core/'.length), CORE).href, context)
  return next(specifier, context)
}
