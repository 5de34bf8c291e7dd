// Attaching photos in the app: uni.chooseImage (camera or album), uni.uploadFile to POST /api/attachments;
// what is kept and sent is the shared core's (static/js/core/attachments.js). `api` is `uni`, or a stand-in.
import { MAX_ATTACHMENTS, addPending, attachOutcome, attachmentHeaders } from '@core/attachments.js'

/** The photos a person picks or takes now: [{path, name}] (none when they cancel). */
export function chooseImages(api, count = MAX_ATTACHMENTS) {
  return new Promise((resolve) => {
    api.chooseImage({
      count,
      sizeType: ['compressed'], // a phone's full-size photo is 3-10 MB to send over the room's Wi-Fi
      sourceType: ['camera', 'album'],
      success: (res) => {
        const files = res.tempFiles || (res.tempFilePaths || []).map((p) => ({ path: p }))
        resolve(files.map((f, i) => {
          const path = f.path || res.tempFilePaths[i]
          const base = String(path).split(/[\\/]/).pop()
          return { path, name: f.name || (/\.(png|jpe?g|webp)$/i.test(base) ? base : `photo-${i + 1}.jpg`) }
        }))
      },
      fail: () => resolve([]),
    })
  })
}

/** Upload one picked file: {attachment} or {error: a sentence}. */
export function uploadAttachment(api, { serverUrl, clientId, headers = {}, file }) {
  return new Promise((resolve) => {
    api.uploadFile({
      url: `${serverUrl}/api/attachments`,
      filePath: file.path,
      name: 'file',
      formData: { name: file.name }, // on H5 the picked file's path is a blob: URL with no name of its own
      header: attachmentHeaders(clientId, headers),
      success: (res) => {
        let body = res.data
        try {
          body = typeof body === 'string' ? JSON.parse(body) : body
        } catch {
          body = null
        }
        resolve(attachOutcome(res.statusCode, body))
      },
      fail: () => resolve(attachOutcome(0, null)),
    })
  })
}

/** Pick photos and upload them, adding to `pending`: {pending, errors: [sentence]}. */
export async function attachPhotos(api, { serverUrl, clientId, headers, pending = [] }) {
  const room = MAX_ATTACHMENTS - pending.length
  if (room <= 0) return { pending, errors: [`A message takes at most ${MAX_ATTACHMENTS} attachments.`] }
  const errors = []
  for (const file of await chooseImages(api, room)) {
    const out = await uploadAttachment(api, { serverUrl, clientId, headers, file })
    if (out.error) errors.push(`${file.name}: ${out.error}`)
    else {
      const next = addPending(pending, out.attachment)
      pending = next.pending
      if (next.error) errors.push(next.error)
    }
  }
  return { pending, errors }
}
