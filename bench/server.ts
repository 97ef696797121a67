/**
 * The benchmark's Mixpanel: export and engage endpoints serving the generator's records
 * (test/support/generate.ts) from bodies compressed once, before any measurement.
 *
 * Why not test/support/fake-mixpanel.ts as it is: it generates and gzips every body while serving,
 * which costs about as much CPU per record as mpx spends, so on a 2-core machine the server itself
 * would be the bottleneck and would take the core mpx's decompression needs. Here a request costs
 * only copying compressed bytes to the socket, and the server runs in its own process (see
 * startBenchServer), so nothing it does shares the measured process's event loop.
 *
 * Run as a child process: it receives a ServerConfig over IPC and answers with a ServerInfo.
 */

import type {AddressInfo} from 'node:net'

import {once} from 'node:events'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {gzipSync} from 'node:zlib'

import {dayStartSeconds, generateEvents, generateProfiles} from '../test/support/generate.js'
import {gzipMember, type GzipPart, gzipPart} from './gzip-parts.js'

export interface EventDataset {
  readonly count: number
  /** First day, YYYY-MM-DD. */
  readonly from: string
  readonly seed: number
  /** Last day, YYYY-MM-DD, inclusive. */
  readonly to: string
}

/** One listening port: a dataset, and how slow the network in front of it is. */
export interface ListenerConfig {
  /** Per response: body bytes per second (compressed bytes, as on the wire). */
  readonly bytesPerSecond?: number
  readonly events: EventDataset
  /** Delay before the status line of every response. */
  readonly latencyMs?: number
  readonly name: string
  /** Profiles served by engage (page size 1000). */
  readonly profiles?: number
}

export interface ServerConfig {
  readonly gzipLevel: number
  readonly listeners: readonly ListenerConfig[]
}

/** What one day of a dataset holds. */
export interface DayInfo {
  /** Compressed bytes. */
  readonly compressed: number
  readonly day: string
  readonly records: number
  /** Uncompressed bytes (JSON lines with their newlines). */
  readonly size: number
}

export interface ListenerInfo {
  readonly days: readonly DayInfo[]
  readonly name: string
  readonly profiles: {compressed: number; pages: number; records: number; size: number}
  readonly url: string
}

export interface ServerInfo {
  readonly listeners: readonly ListenerInfo[]
  /** Seconds spent generating and compressing. */
  readonly prepareSeconds: number
}

const DAY = 86_400
export const ENGAGE_PAGE = 1000
const SESSION = 'bench-session-1'

interface EventDay extends GzipPart {
  readonly day: string
  readonly records: number
}

interface Prepared {
  readonly config: ListenerConfig
  readonly days: Map<number, EventDay>
  readonly pages: Buffer[]
  readonly profileInfo: ListenerInfo['profiles']
}

function dayName(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10)
}

/** Every day of a dataset, compressed: generation and compression overlap (zlib runs in its pool). */
async function prepareEvents(dataset: EventDataset, level: number): Promise<Map<number, EventDay>> {
  const events = generateEvents(dataset)
  const first = dayStartSeconds(dataset.from)
  const last = dayStartSeconds(dataset.to)
  const days = new Map<number, EventDay>()
  const pending: Array<Promise<void>> = []
  let index = 0
  for (let day = first; day <= last; day += DAY) {
    const start = index
    while (index < events.count && events.timeAt(index) < day + DAY) index++
    // Lines are encoded into one buffer as they come: a day can be hundreds of megabytes of text.
    const pieces: Buffer[] = []
    let batch = ''
    for (let i = start; i < index; i++) {
      batch += `${events.lineAt(i)}\n`
      if (batch.length > 1_048_576) {
        pieces.push(Buffer.from(batch))
        batch = ''
      }
    }

    pieces.push(Buffer.from(batch))
    const text = Buffer.concat(pieces)
    const records = index - start
    const key = day
    pending.push(
      gzipPart(text, level).then((part) => {
        days.set(key, {...part, day: dayName(key), records})
      }),
    )
    // Keep at most a few days in flight: bounded memory for big datasets.
    if (pending.length >= 4) await Promise.all(pending.splice(0))
  }

  await Promise.all(pending)
  return days
}

function prepareProfiles(
  count: number,
  level: number,
  seed: number,
): {info: ListenerInfo['profiles']; pages: Buffer[]} {
  const profiles = generateProfiles({count, seed})
  const pages: Buffer[] = []
  let size = 0
  let compressed = 0
  const pageCount = Math.max(1, Math.ceil(count / ENGAGE_PAGE))
  for (let page = 0; page < pageCount; page++) {
    const results: string[] = []
    for (let i = page * ENGAGE_PAGE; i < Math.min(count, (page + 1) * ENGAGE_PAGE); i++)
      results.push(profiles.lineAt(i))
    // Like Mixpanel (sometimes): page_size and total on page 0 only.
    const head = page === 0 ? `"page_size":${ENGAGE_PAGE},` : ''
    const tail = page === 0 ? `,"total":${count}` : ''
    const body = Buffer.from(
      `{"page":${page},${head}"results":[${results.join(',')}],"session_id":"${SESSION}","status":"ok"${tail}}`,
    )
    size += body.length
    const gz = gzipSync(body, {level})
    compressed += gz.length
    pages.push(gz)
  }

  return {info: {compressed, pages: pageCount, records: count, size}, pages}
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Writes `pieces`, honouring backpressure, paced to `bytesPerSecond` when set. */
async function send(res: ServerResponse, pieces: readonly Buffer[], bytesPerSecond?: number): Promise<void> {
  const started = Date.now()
  let sent = 0
  // Throttled bodies leave in 50 ms slices, so the rate is smooth.
  const slice = bytesPerSecond ? Math.max(1024, Math.floor(bytesPerSecond / 20)) : Number.POSITIVE_INFINITY
  for (const piece of pieces) {
    for (let offset = 0; offset < piece.length; offset += slice) {
      if (res.destroyed) return
      const part = slice === Number.POSITIVE_INFINITY ? piece : piece.subarray(offset, offset + slice)
      if (bytesPerSecond) {
        const due = started + ((sent + part.length) / bytesPerSecond) * 1000
        if (due > Date.now()) await sleep(due - Date.now())
      }

      sent += part.length
      if (!res.write(part)) {
        // Both listeners go once either fires: a slow reader waits many times on one response.
        const waited = new AbortController()
        await Promise.race([
          once(res, 'drain', {signal: waited.signal}),
          once(res, 'close', {signal: waited.signal}),
        ]).finally(() => waited.abort())
      }
    }
  }

  res.end()
}

function fail(res: ServerResponse, status: number, error: string): void {
  res.writeHead(status, {'Content-Type': 'application/json'})
  res.end(JSON.stringify({error}))
}

async function handle(prepared: Prepared, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://bench')
  const body = await readBody(req)
  const {bytesPerSecond, latencyMs} = prepared.config
  if (latencyMs) await sleep(latencyMs)
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  if (!gzip) {
    fail(res, 400, 'the benchmark server only sends gzip bodies: send Accept-Encoding: gzip')
    return
  }

  if (url.pathname === '/api/2.0/export') {
    const from = url.searchParams.get('from_date') ?? ''
    const to = url.searchParams.get('to_date') ?? ''
    let first: number
    let last: number
    try {
      first = dayStartSeconds(from)
      last = dayStartSeconds(to)
    } catch {
      fail(res, 400, 'from_date and to_date must be YYYY-MM-DD')
      return
    }

    const parts: EventDay[] = []
    for (let day = first; day <= last; day += DAY) {
      const part = prepared.days.get(day)
      if (part) parts.push(part)
    }

    const member = gzipMember(parts)
    // An empty range is an empty 200 without gzip framing, as Mixpanel answers it.
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      ...(member.length > 0 ? {'Content-Encoding': 'gzip'} : {}),
    })
    await send(res, member, bytesPerSecond)
    return
  }

  if (url.pathname === '/api/2.0/engage') {
    const params = new URLSearchParams(body || url.search)
    const page = Number(params.get('page') ?? '0')
    const pageBody = prepared.pages[page]
    if (!Number.isSafeInteger(page) || page < 0) {
      fail(res, 400, `invalid page: ${params.get('page')}`)
      return
    }

    res.writeHead(200, {'Content-Encoding': 'gzip', 'Content-Type': 'application/json'})
    await send(
      res,
      [pageBody ?? gzipSync(`{"page":${page},"results":[],"session_id":"${SESSION}","status":"ok"}`, {level: 1})],
      bytesPerSecond,
    )
    return
  }

  fail(res, 404, `no such endpoint: ${url.pathname}`)
}

async function listen(prepared: Prepared): Promise<string> {
  const server = createServer((req, res) => {
    handle(prepared, req, res).catch((error: unknown) => {
      console.error('bench server:', error)
      res.destroy()
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Prepares every listener's data (shared between listeners with the same dataset) and listens. */
export async function serve(config: ServerConfig): Promise<ServerInfo> {
  const started = performance.now()
  const eventCache = new Map<string, Promise<Map<number, EventDay>>>()
  const listeners: ListenerInfo[] = []
  for (const listener of config.listeners) {
    const key = JSON.stringify(listener.events)
    let days = eventCache.get(key)
    if (!days) {
      days = prepareEvents(listener.events, config.gzipLevel)
      eventCache.set(key, days)
    }

    const prepared = {config: listener, days: await days, ...toPages(listener, config.gzipLevel)}

    const url = await listen(prepared)
    listeners.push({
      days: [...prepared.days.values()]
        .sort((a, b) => a.day.localeCompare(b.day))
        .map(({day, deflated, records, size}) => ({compressed: deflated.length, day, records, size})),
      name: listener.name,
      profiles: prepared.profileInfo,
      url,
    })
  }

  return {listeners, prepareSeconds: (performance.now() - started) / 1000}
}

function toPages(listener: ListenerConfig, level: number): Pick<Prepared, 'pages' | 'profileInfo'> {
  if (!listener.profiles) return {pages: [], profileInfo: {compressed: 0, pages: 0, records: 0, size: 0}}
  const {info, pages} = prepareProfiles(listener.profiles, level, listener.events.seed)
  return {pages, profileInfo: info}
}
