/**
 * Transport baseline in Node: the same requests as mpx, bodies fetched and gunzipped by node:http
 * and node:zlib, and thrown away. No line splitting, no parsing. Standalone (run by plain `node`,
 * which strips the types): it imports nothing from mpx.
 *
 * Usage: node bench/transport.ts '{"auth":"Basic …","requests":[{"url":"…","form":"…"}],"concurrency":1}'
 * (optional: "chunkBytes" and "aheadBytes" for zlib; Node's defaults otherwise)
 */
import {request} from 'node:http'
import {createGunzip, type ZlibOptions} from 'node:zlib'

interface Job {
  /** Decompress up to this far ahead of the reader (zlib's readable high-water mark). */
  aheadBytes?: number
  auth: string
  /** zlib's output pieces (its default: 16 KB). */
  chunkBytes?: number
  concurrency?: number
  requests: Array<{form?: string; url: string}>
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job

async function fetchOne(target: {form?: string; url: string}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        headers: {
          'accept-encoding': 'gzip',
          authorization: job.auth,
          ...(target.form ? {'content-type': 'application/x-www-form-urlencoded'} : {}),
        },
        method: target.form ? 'POST' : 'GET',
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`HTTP ${res.statusCode} for ${target.url}`))
          res.resume()
          return
        }

        let bytes = 0
        const gunzip = createGunzip({
          chunkSize: job.chunkBytes,
          readableHighWaterMark: job.aheadBytes,
        } as ZlibOptions)
        const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(gunzip) : res
        body.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        body.on('end', () => resolve(bytes))
        body.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(target.form)
  })
}

let next = 0
let total = 0
async function worker(): Promise<void> {
  while (next < job.requests.length) {
    const target = job.requests[next++]

    total += await fetchOne(target)
  }
}

await Promise.all(Array.from({length: job.concurrency ?? 1}, async () => worker()))
process.stderr.write(`${JSON.stringify({bytes: total})}\n`)
