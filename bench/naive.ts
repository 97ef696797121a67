/**
 * The naive pipeline, as one would first write it in Node: fetch each chunk (node:http, node:zlib),
 * split lines, JSON.parse, normalize, JSON.stringify, write. Not lossless (19-digit integers are
 * rounded) and no retries: it is the speed reference, not a correct exporter. Standalone (run by
 * plain `node`, which strips the types): it imports nothing from mpx.
 *
 * Usage: node bench/naive.ts '{"auth":"Basic …","urls":["…"]}' > /dev/null
 */
import {request} from 'node:http'
import {StringDecoder} from 'node:string_decoder'
import {createGunzip} from 'node:zlib'

interface Job {
  auth: string
  urls: string[]
}

interface Raw {
  event: string
  properties: Record<string, unknown>
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job

function normalize(line: string): string {
  const raw = JSON.parse(line) as Raw
  const {$insert_id: insertId, distinct_id: distinctId, time, ...properties} = raw.properties
  /* eslint-disable perfectionist/sort-objects */
  return JSON.stringify({
    event_name: raw.event,
    event_time: new Date(Number(time) * 1000).toISOString(),
    distinct_id: distinctId === undefined || distinctId === null ? '' : String(distinctId),
    insert_id: typeof insertId === 'string' ? insertId : '',
    properties,
  })
  /* eslint-enable perfectionist/sort-objects */
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise((resolve) => {
      process.stdout.once('drain', resolve)
    })
  }
}

let records = 0
async function fetchChunk(url: string): Promise<void> {
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(url, {headers: {'accept-encoding': 'gzip', authorization: job.auth}}, resolve)
    req.on('error', reject)
    req.end()
  })
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} for ${url}`)
  const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of body) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n')
    rest = lines.pop() ?? ''
    const out: string[] = []
    for (const line of lines) if (line) out.push(normalize(line))
    records += out.length
    if (out.length > 0) await write(out.join('\n') + '\n')
  }

  rest += decoder.end()
  if (rest) {
    records++
    await write(normalize(rest) + '\n')
  }
}

for (const url of job.urls) {
  await fetchChunk(url)
}

process.stderr.write(`${JSON.stringify({records})}\n`)
