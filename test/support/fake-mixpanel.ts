/**
 * A local HTTP server that behaves like Mixpanel's raw export (`/api/2.0/export`) and engage (`/api/2.0/engage`)
 * APIs, including the ways they fail in production (see /work/shared/mixpanel-api.md), so that mpx can be tested
 * and benchmarked end to end without a network.
 *
 * Bodies are streamed with backpressure from on-demand generators (./generate.ts), so a multi-million-event
 * export never sits in memory. Record texts are spliced into the response as they are, never re-serialized:
 * 19-digit integers reach the client exactly as Mixpanel would send them.
 */

import type {AddressInfo} from 'node:net'

import {once} from 'node:events'
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {setImmediate as nextTurn, setTimeout as sleep} from 'node:timers/promises'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- crc32 is stable in Node 22.2+, tests run on 24
import {crc32, deflateRaw, constants as zlibConstants} from 'node:zlib'

import {dayStartSeconds, type GeneratedEvents, type GeneratedProfiles} from './generate.js'
import {legacyLine, zoneDayStart} from './legacy-time.js'

export type Endpoint = 'engage' | 'export'

/** Explicit raw lines: export lines, or engage result objects as JSON text. */
export type RawLines = readonly string[]
export type EventsInput = GeneratedEvents | RawLines
export type ProfilesInput = GeneratedProfiles | RawLines

/** Service-account credentials (`username:secret`) or a legacy project API secret (`secret:`). */
export type FakeAuth = {apiSecret: string} | {secret: string; username: string}

export interface FakeMixpanelOptions {
  /** When set, requests without matching HTTP Basic credentials get a 401. */
  auth?: FakeAuth
  /** Throttle each response body to this many bytes per second (responses on a connection are sequential, so per connection). */
  bytesPerSecond?: number
  /** Engage page size (default 1000); a smaller `page_size` parameter from the client wins. */
  engagePageSize?: number
  events?: EventsInput
  /**
   * Write bodies in pieces of at most this many bytes, each its own HTTP chunk, with a gzip sync flush between
   * pieces, so that the client's decompressed chunks cut records in the middle. Applies to plain bodies too.
   */
  gzipChunkBytes?: number
  /** zlib level for gzip bodies (default 1: the fake should not be the bottleneck of a benchmark). */
  gzipLevel?: number
  /**
   * Events that arrive late (mobile SDKs send them days later): the export leaves them out until
   * `arrive` is called on the server (or from its `fromRequest`th export request on, counting from 1),
   * then sends them after the others of their days.
   */
  lateEvents?: {fromRequest?: number; lines: RawLines}
  /** Delay before the first byte of every response. */
  latencyMs?: number
  profiles?: ProfilesInput
  /**
   * A legacy project (created before 2023) in this timezone (IANA name): the events given carry
   * true UTC `time`s; the export selects the zone's days and sends `time` as the zone's wall clock
   * (`mp_processing_time_ms` stays UTC), as Mixpanel does for such projects (see legacy-time.ts).
   */
  timezone?: string
  /** When set, export answers 400 `to_date cannot be later than today` for a later `to_date` (`YYYY-MM-DD`). */
  today?: string
  /** Engage sends `total` and `page_size` on page 0 only (default true), as Mixpanel may. */
  totalOnFirstPageOnly?: boolean
}

/** One request as received. `params` merges the query string and the form body (body wins). */
export interface RecordedRequest {
  body: Record<string, string>
  endpoint?: Endpoint
  headers: IncomingHttpHeaders
  method: string
  params: Record<string, string>
  path: string
  query: Record<string, string>
  rawBody: string
  /** `Date.now()` on arrival: for checking backoff and pacing. */
  receivedAt: number
}

/** An error response. Default bodies per status imitate Mixpanel (JSON, or text/html for 502). */
export interface StatusFault {
  body?: string
  /** Defaults from the body: JSON if it starts with `{`, HTML if `<`, otherwise text/plain. */
  contentType?: string
  /** Seconds, sent as a `Retry-After` header. */
  retryAfter?: number
  status: number
}

/** Send K full records, then destroy the socket mid-body (`hard`: TCP RST, the client sees ECONNRESET). */
export interface ResetFault {
  hard?: boolean
  resetAfterRecords: number
}

/** Send K records, half of the next one, then a line `terminated early`, and end the 200 normally. */
export interface TerminatedEarlyFault {
  /** Default `terminated early`; Mixpanel has also been seen sending `export terminated early`. */
  message?: string
  terminatedEarlyAfterRecords: number
}

/** Send K records (gzip) and part of the next, then end the HTTP response cleanly without the gzip trailer. */
export interface TruncateGzipFault {
  truncateGzipAfterRecords: number
}

/** Send K records, write nothing for stallMs with the socket open, then carry on normally. */
export interface StallFault {
  stallAfterRecords: number
  stallMs: number
}

/** Every record is sent twice: Mixpanel's export is not deduplicated. */
export interface DuplicateFault {
  duplicateRecords: true
}

/** 200 with a zero-byte body; `contentEncoding: 'gzip'` still announces gzip (a trap for naive gunzip). */
export interface EmptyBodyFault {
  contentEncoding?: 'gzip'
  emptyBody: true
}

/** 200 whose body is not an export at all, e.g. a proxy's HTML login page (LOGIN_PAGE). */
export interface NotAnExportFault {
  /** Default text/html. */
  contentType?: string
  notAnExport: string
}

/** What a proxy in front of Mixpanel may answer with a 200. */
export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><form action="/login">Password</form></body></html>\n'

/** Engage only: 400 saying the session expired, so the client must start again from page 0. */
export interface SessionExpiredFault {
  sessionExpired: true
}

export type FaultKind =
  | DuplicateFault
  | EmptyBodyFault
  | NotAnExportFault
  | ResetFault
  | SessionExpiredFault
  | StallFault
  | StatusFault
  | TerminatedEarlyFault
  | TruncateGzipFault

/** A fault, optionally only for requests that `match` (e.g. `(r) => r.params.page === '3'`). */
export type Fault = FaultKind & {match?: (request: RecordedRequest) => boolean}

export interface FakeMixpanel {
  /** The late events (FakeMixpanelOptions.lateEvents) are exported from now on. */
  arrive(): void
  close(): Promise<void>
  /** Queue `fault` for the next `times` matching requests to `endpoint` (Infinity: every one). */
  fail(endpoint: Endpoint, fault: Fault, times?: number): void
  /** Faults queued and not yet consumed. */
  pendingFaults(endpoint?: Endpoint): number
  /** Every request received since start or the last reset(), in arrival order. */
  readonly requests: RecordedRequest[]
  /** Forget queued faults, recorded requests and engage sessions (records and options stay). */
  reset(): void
  setEvents(events: EventsInput): void
  setProfiles(profiles: ProfilesInput): void
  /** Origin, e.g. `http://127.0.0.1:54321`. */
  readonly url: string
}

const exportPath = '/api/2.0/export'
const engagePath = '/api/2.0/engage'
const defaultBatchBytes = 64 * 1024

// ---------------------------------------------------------------------------------------------------------------
// Record stores: one interface over generators and explicit line arrays.

interface EventStore {
  lineAt(i: number): string
  /** Indices of events with from <= time < to whose name is in `names` (all names if undefined). */
  select(fromSec: number, toSec: number, names: ReadonlySet<string> | undefined): Iterable<number>
}

const isRawLines = (input: EventsInput | ProfilesInput): input is RawLines => Array.isArray(input)

function eventStore(input: EventsInput | undefined): EventStore {
  if (input === undefined) return {lineAt: () => '', select: () => []}
  if (isRawLines(input)) {
    // Explicit lines may come in any order: read time and name once, then scan. A line whose time
    // cannot be read (JSON that is not an event, a time in no day: as Mixpanel may send them) is
    // sent with the line before it (the first readable one, for lines at the start).
    const read = input.map((line) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        throw new TypeError(`event line is not JSON: ${line.slice(0, 80)}`)
      }

      const record = (parsed ?? {}) as {event?: unknown; properties?: {time?: unknown}}
      const {time} = (typeof record.properties === 'object' && record.properties) || {}
      // Lines written with time_in_ms carry milliseconds; filter on seconds either way.
      const seconds = typeof time === 'number' ? (time > 1e11 ? time / 1000 : time) : Number.NaN
      return {
        event: typeof record.event === 'string' ? record.event : undefined,
        time: Number.isFinite(seconds) && seconds >= 0 && seconds < 1e11 ? seconds : undefined,
      }
    })
    const firstTime = read.find((entry) => entry.time !== undefined)?.time
    if (firstTime === undefined) throw new TypeError('no event line has a numeric "properties.time"')
    let previous = firstTime
    const meta = read.map(({event, time}) => {
      previous = time ?? previous
      return {event, time: previous}
    })
    return {
      lineAt: (i) => input[i],
      *select(fromSec, toSec, names) {
        for (const [i, {event, time}] of meta.entries()) {
          if (time >= fromSec && time < toSec && (!names || (event !== undefined && names.has(event)))) yield i
        }
      },
    }
  }

  const gen = input
  // Generator times are non-decreasing: binary-search the first index at or after a time.
  const lowerBound = (sec: number): number => {
    let lo = 0
    let hi = gen.count
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      if (gen.timeAt(mid) < sec) lo = mid + 1
      else hi = mid
    }

    return lo
  }

  return {
    lineAt: (i) => gen.lineAt(i),
    *select(fromSec, toSec, names) {
      const end = lowerBound(toSec)
      for (let i = lowerBound(fromSec); i < end; i++) if (!names || names.has(gen.eventAt(i))) yield i
    },
  }
}

interface ProfileStore {
  count: number
  distinctIdAt(i: number): string
  lineAt(i: number): string
}

function profileStore(input: ProfilesInput | undefined): ProfileStore {
  if (input === undefined) return {count: 0, distinctIdAt: () => '', lineAt: () => ''}
  if (isRawLines(input)) {
    // A line that is not a profile (as Mixpanel may send one) goes out as it is, under an id of its own.
    const ids = input.map((line, i) => {
      const parsed = JSON.parse(line) as null | {$distinct_id?: unknown}
      const id = typeof parsed === 'object' && parsed !== null ? parsed.$distinct_id : undefined
      return id === undefined || id === null ? `(line ${i})` : String(id)
    })
    return {count: input.length, distinctIdAt: (i) => ids[i], lineAt: (i) => input[i]}
  }

  return input
}

// ---------------------------------------------------------------------------------------------------------------
// Response body writer: batching, gzip, chunking, throttling, backpressure.

function deflateRawAsync(data: Buffer, level: number, final: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(
      data,
      {finishFlush: final ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH, level},
      (error, result) => (error ? reject(error) : resolve(result)),
    )
  })
}

/** Gzip header: deflate, no flags, mtime 0, unix. */
const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])

interface BodyWriterOptions {
  batchBytes: number
  bytesPerSecond?: number
  contentType: string
  gzip: boolean
  gzipLevel: number
  pieceBytes?: number
  signal: AbortSignal
}

/**
 * Streams a 200 body. Text is encoded into batches; each gzip batch is deflated on its own (in zlib's thread
 * pool, overlapping with generating the next batch) and ended with a sync flush, and the raw-deflate pieces are
 * concatenated into one gzip member. That keeps the whole stream in our hands: we can stop anywhere (truncation
 * faults) and every flushed batch is decodable by the client at once (stall faults).
 */
class BodyWriter {
  private crc = 0
  private headersSent = false
  /** The previous batch on its way out (compressing, then writing); batches leave in order. */
  private inflight: Promise<void> = Promise.resolve()
  private lastWrite: Promise<void> = Promise.resolve()
  /** Text not yet sent, encoded straight into a buffer (much cheaper than joining strings first). */
  private pending: Buffer
  private pendingBytes = 0
  private sentBytes = 0
  private size = 0
  private startedAt = 0
  private wroteAnything = false

  constructor(
    private readonly res: ServerResponse,
    private readonly options: BodyWriterOptions,
  ) {
    this.pending = this.newBatch()
  }

  get aborted(): boolean {
    return this.options.signal.aborted
  }

  async add(text: string): Promise<void> {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const worst = text.length * 3
    if (this.pendingBytes + worst > this.pending.length) {
      await this.flush()
      if (worst > this.pending.length) this.pending = Buffer.allocUnsafe(worst)
    }

    this.pendingBytes += this.pending.write(text, this.pendingBytes)
    if (this.pendingBytes >= this.options.batchBytes) await this.flush()
  }

  /** Send everything added so far and wait until it is out, decodable by the client (gzip sync flush). */
  async drain(): Promise<void> {
    await this.flush()
    await this.inflight
  }

  /** Finish the body: gzip trailer, end of response. */
  async end(): Promise<void> {
    await this.inflight
    if (!this.wroteAnything && this.pendingBytes === 0) {
      // Nothing at all: a genuinely empty 200 (no gzip framing), as Mixpanel answers an empty range.
      this.writeHead(false)
      this.res.end()
      return
    }

    const raw = this.takePending()
    if (this.options.gzip) {
      this.checksum(raw)
      const deflated = await deflateRawAsync(raw, this.options.gzipLevel, true)
      const trailer = Buffer.alloc(8)
      trailer.writeUInt32LE(this.crc, 0)
      trailer.writeUInt32LE(this.size, 4)
      await this.send(Buffer.concat([deflated, trailer]))
    } else {
      await this.send(raw)
    }

    if (!this.aborted) this.res.end()
  }

  /**
   * Queue what is pending for sending. For throughput, returns while this batch may still be compressing or
   * being written (one batch in flight: bounded memory); with small `pieceBytes` (tests of chunking), returns
   * once it is out, so the server keeps the slower, step-by-step pace that tests of timing were written against.
   */
  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return
    const raw = this.takePending()
    const data = this.options.gzip ? this.deflate(raw) : Promise.resolve(raw)
    data.catch(() => {}) // handled below, once its turn comes; avoid an early unhandled-rejection report
    const previous = this.inflight
    this.inflight = previous.then(async () => this.send(await data))
    await (this.options.pieceBytes === undefined ? previous : this.inflight)
  }

  /** Send raw bytes as part of the body, after what is pending (e.g. half of a record, cut mid-character). */
  async sendBytes(bytes: Buffer): Promise<void> {
    await this.drain()
    await this.send(this.options.gzip ? await this.deflate(bytes) : bytes)
  }

  /** Resolves once everything written so far has been handed to the kernel (or failed). */
  async settled(): Promise<void> {
    await this.drain()
    await this.lastWrite
  }

  async sleep(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, {signal: this.options.signal})
    } catch {
      // aborted: the client went away or the server is closing
    }
  }

  /** Send what is pending, then only the first half of the (gzip) bytes for `bytes`, and end the HTTP response. */
  async truncate(bytes: Buffer): Promise<void> {
    await this.drain()
    if (this.options.gzip) {
      const deflated = await this.deflate(bytes)
      await this.send(deflated.subarray(0, Math.max(1, Math.floor(deflated.length / 2))))
    } else {
      await this.send(bytes.subarray(0, Math.floor(bytes.length / 2)))
    }

    if (!this.aborted) this.res.end()
  }

  /** Account for `raw` in the gzip trailer; must be called in body order. */
  private checksum(raw: Buffer): void {
    this.crc = crc32(raw, this.crc)
    this.size = (this.size + raw.length) % 2 ** 32
  }

  private deflate(raw: Buffer): Promise<Buffer> {
    this.checksum(raw)
    return deflateRawAsync(raw, this.options.gzipLevel, false)
  }

  private newBatch(): Buffer {
    return Buffer.allocUnsafe(this.options.batchBytes + 64 * 1024)
  }

  private async send(data: Buffer): Promise<void> {
    if (this.aborted) return
    if (!this.headersSent) {
      this.writeHead(this.options.gzip)
      if (this.options.gzip) data = Buffer.concat([gzipHeader, data])
    }

    this.wroteAnything = true
    const {bytesPerSecond, pieceBytes} = this.options
    // Throttled bodies go out in ~50 ms slices so the rate is smooth rather than bursty.
    const throttleSlice = bytesPerSecond ? Math.max(1, Math.floor(bytesPerSecond / 20)) : Infinity
    const slice = Math.min(pieceBytes ?? Infinity, throttleSlice)
    for (let offset = 0; offset < data.length && !this.aborted; offset += slice) {
      const piece = slice === Infinity ? data : data.subarray(offset, offset + slice)
      if (bytesPerSecond) {
        if (this.startedAt === 0) this.startedAt = Date.now()
        const due = this.startedAt + ((this.sentBytes + piece.length) / bytesPerSecond) * 1000
        if (due > Date.now()) await this.sleep(due - Date.now())
      }

      await this.write(piece)
      this.sentBytes += piece.length
      // Yield between pieces so they leave as separate chunks instead of being coalesced.
      if (pieceBytes !== undefined && offset + slice < data.length) await nextTurn()
    }
  }

  private takePending(): Buffer {
    // The batch goes to the socket or to zlib's thread pool as it is: start a fresh buffer, never reuse it.
    const raw = this.pending.subarray(0, this.pendingBytes)
    this.pending = this.newBatch()
    this.pendingBytes = 0
    return raw
  }

  private async write(piece: Buffer): Promise<void> {
    let written = (): void => {}
    this.lastWrite = new Promise((resolve) => {
      written = resolve
    })
    if (this.res.write(piece, () => written())) return
    try {
      await once(this.res, 'drain', {signal: this.options.signal})
    } catch {
      // aborted while waiting for the client to read
    }
  }

  private writeHead(gzip: boolean): void {
    this.headersSent = true
    const headers: Record<string, string> = {'Content-Type': this.options.contentType}
    if (gzip) headers['Content-Encoding'] = 'gzip'
    this.res.writeHead(200, headers)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The server.

interface QueuedFault {
  fault: Fault
  remaining: number
}

/** A body to stream: prefix, then records (each formatted by `unit`), then suffix. */
interface StreamPlan {
  contentType: string
  lines: Iterable<string>
  prefix: string
  suffix: string
  unit(line: string, n: number): string
}

/** Thrown while planning a response: becomes a non-2xx answer with this body. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body}`)
  }
}

function defaultErrorBody(status: number, path: string): string {
  switch (status) {
    case 400: {
      return JSON.stringify({error: 'Bad request', request: path})
    }

    case 401: {
      return JSON.stringify({error: 'Invalid username or secret', request: path})
    }

    case 402: {
      return JSON.stringify({error: 'Payment required: your plan does not include this API', request: path})
    }

    case 403: {
      return JSON.stringify({error: 'You do not have permission to access this project', request: path})
    }

    case 429: {
      return '{"error":"too many export requests in progress for this project"}'
    }

    case 502: {
      return '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>'
    }

    case 503: {
      return JSON.stringify({error: 'Service temporarily unavailable, please retry', request: path})
    }

    default: {
      return JSON.stringify({error: status >= 500 ? 'Internal server error' : `HTTP ${status}`, request: path})
    }
  }
}

function contentTypeOf(body: string): string {
  const head = body.trimStart()
  if (head.startsWith('{') || head.startsWith('[')) return 'application/json'
  if (head.startsWith('<')) return 'text/html; charset=utf-8'
  return 'text/plain; charset=utf-8'
}

function sendError(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  if (res.destroyed) return
  res.writeHead(status, {'Content-Type': contentTypeOf(body), ...extra})
  res.end(body)
}

function authorized(auth: FakeAuth, header: string | undefined): boolean {
  const match = /^basic\s+(\S+)$/i.exec(header ?? '')
  if (!match) return false
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const [user, pass] = colon === -1 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)]
  // A project API secret goes as the username; Mixpanel ignores the (normally empty) password.
  return 'apiSecret' in auth ? user === auth.apiSecret : user === auth.username && pass === auth.secret
}

/** Parse a `YYYY-MM-DD` parameter, or throw Mixpanel's kind of 400. */
function dayParam(params: Record<string, string>, name: string, request: string): number {
  const value = params[name]
  if (value === undefined || value === '') {
    throw new HttpError(400, JSON.stringify({error: `${name} is a required parameter`, request}))
  }

  try {
    return dayStartSeconds(value)
  } catch {
    throw new HttpError(
      400,
      JSON.stringify({error: `Invalid value for ${name}: '${value}'. Use the format YYYY-MM-DD.`, request}),
    )
  }
}

function jsonArrayParam(params: Record<string, string>, name: string, request: string): string[] | undefined {
  const value = params[name]
  if (value === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    parsed = undefined
  }

  if (!Array.isArray(parsed)) {
    throw new HttpError(400, JSON.stringify({error: `${name} must be a JSON array, got: ${value}`, request}))
  }

  return parsed.map(String)
}

/** Read the whole request (bodies are small forms) and describe it. */
async function recordOf(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const rawBody = Buffer.concat(chunks).toString('utf8')
  const url = new URL(req.url ?? '/', 'http://fake')
  const method = req.method ?? 'GET'
  const query = Object.fromEntries(url.searchParams)
  const body = rawBody && method === 'POST' ? Object.fromEntries(new URLSearchParams(rawBody)) : {}
  const path = url.pathname.replace(/\/+$/, '')
  let endpoint: Endpoint | undefined
  if (path === exportPath && method === 'GET') endpoint = 'export'
  else if (path === engagePath && (method === 'GET' || method === 'POST')) endpoint = 'engage'
  return {
    body,
    endpoint,
    headers: req.headers,
    method,
    params: {...query, ...body},
    path: url.pathname,
    query,
    rawBody,
    receivedAt: Date.now(),
  }
}

function sendStatusFault(res: ServerResponse, fault: StatusFault, path: string): void {
  const headers: Record<string, string> = {}
  if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter)
  if (fault.contentType) headers['Content-Type'] = fault.contentType
  sendError(res, fault.status, fault.body ?? defaultErrorBody(fault.status, path), headers)
}

class FakeMixpanelServer implements FakeMixpanel {
  readonly requests: RecordedRequest[] = []
  url = ''
  private events: EventStore
  private faults: Record<Endpoint, QueuedFault[]> = {engage: [], export: []}
  private lateArrived = false
  private lateStore: EventStore | undefined
  private profiles: ProfileStore
  private readonly server: Server
  private sessionCounter = 0
  private readonly sessions = new Set<string>()

  constructor(private readonly options: FakeMixpanelOptions) {
    this.events = eventStore(options.events)
    this.profiles = profileStore(options.profiles)
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must be loud, not a silent hang in the test that hit it.
        console.error('fake-mixpanel: unhandled error', error)
        if (res.headersSent) res.destroy()
        else sendError(res, 500, JSON.stringify({error: `fake-mixpanel bug: ${String(error)}`}))
      })
    })
  }

  arrive(): void {
    this.lateArrived = true
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.server.close(() => resolve())
    })
    // Stalled and throttled responses would otherwise keep close() waiting.
    this.server.closeAllConnections()
    await closed
  }

  fail(endpoint: Endpoint, fault: Fault, times = 1): void {
    if (endpoint === 'export' && 'sessionExpired' in fault) throw new Error('sessionExpired is an engage fault')
    if (!(times > 0)) throw new Error(`times must be positive, got ${times}`)
    this.faults[endpoint].push({fault, remaining: times})
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    const {port} = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}`
  }

  pendingFaults(endpoint?: Endpoint): number {
    const queues = endpoint ? [this.faults[endpoint]] : [this.faults.export, this.faults.engage]
    return queues.flat().reduce((sum, q) => sum + q.remaining, 0)
  }

  reset(): void {
    this.faults = {engage: [], export: []}
    this.requests.length = 0
    this.sessions.clear()
  }

  setEvents(events: EventsInput): void {
    this.events = eventStore(events)
  }

  setProfiles(profiles: ProfilesInput): void {
    this.profiles = profileStore(profiles)
  }

  private engagePlan(request: RecordedRequest, fault: Fault | undefined): StreamPlan {
    const {params} = request
    // Mixpanel echoes the request in its errors.
    const echo = request.path + (request.rawBody ? `?${request.rawBody}` : '')
    if (params.where === 'BAD') {
      throw new HttpError(400, JSON.stringify({error: `invalid where expression: ${params.where}`, request: echo}))
    }

    const page = params.page === undefined ? 0 : Number(params.page)
    if (!Number.isSafeInteger(page) || page < 0) {
      throw new HttpError(400, JSON.stringify({error: `invalid page: ${params.page}`, request: echo}))
    }

    const sessionId = this.engageSession(
      page,
      params.session_id,
      fault !== undefined && 'sessionExpired' in fault,
      echo,
    )
    const optionSize = this.options.engagePageSize ?? 1000
    const asked = Number(params.page_size)
    const pageSize = Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, optionSize) : optionSize

    // Filter by distinct_id(s); other filters (cohort, output_properties, ...) are only recorded.
    const store = this.profiles
    const wanted =
      jsonArrayParam(params, 'distinct_ids', echo) ?? (params.distinct_id ? [params.distinct_id] : undefined)
    let indexAt = (k: number): number => k
    let total = store.count
    if (wanted) {
      const ids = new Set(wanted)
      const found: number[] = []
      for (let i = 0; i < store.count; i++) if (ids.has(store.distinctIdAt(i))) found.push(i)
      indexAt = (k) => found[k]
      total = found.length
    }

    const first = page * pageSize
    const last = Math.min(total, first + pageSize)
    function* lines(): Generator<string> {
      for (let k = first; k < last; k++) yield store.lineAt(indexAt(k))
    }

    const full = page === 0 || this.options.totalOnFirstPageOnly === false
    return {
      contentType: 'application/json',
      lines: lines(),
      prefix: `{"page":${page},${full ? `"page_size":${pageSize},` : ''}"results":[`,
      suffix: `],"session_id":${JSON.stringify(sessionId)},"status":"ok"${full ? `,"total":${total}` : ''}}`,
      unit: (line, n) => (n === 0 ? line : `,${line}`),
    }
  }

  /** Page 0 opens a session; later pages must present a live one. */
  private engageSession(page: number, sessionId: string | undefined, expire: boolean, echo: string): string {
    if (page === 0) {
      this.sessionCounter++
      const id = `${Math.floor(Date.now() / 1000)}-${this.sessionCounter.toString(36).toUpperCase().padStart(6, 'X')}`
      this.sessions.add(id)
      return id
    }

    if (!sessionId) {
      throw new HttpError(400, JSON.stringify({error: 'session_id is required when page > 0', request: echo}))
    }

    if (expire || !this.sessions.has(sessionId)) {
      // Unknown and expired sessions look the same from outside: start again from page 0.
      this.sessions.delete(sessionId)
      throw new HttpError(
        400,
        JSON.stringify({
          error: `query session ${sessionId} has expired, please run the query again from page 0`,
          request: echo,
        }),
      )
    }

    return sessionId
  }

  private exportPlan(request: RecordedRequest): StreamPlan {
    const {params} = request
    // Mixpanel echoes the request in its errors.
    const echo = request.path + (Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query)}` : '')
    const from = dayParam(params, 'from_date', echo)
    const to = dayParam(params, 'to_date', echo)
    if (to < from)
      throw new HttpError(400, JSON.stringify({error: 'to_date cannot be earlier than from_date', request: echo}))
    if (this.options.today && to > dayStartSeconds(this.options.today)) {
      throw new HttpError(400, JSON.stringify({error: 'to_date cannot be later than today', request: echo}))
    }

    if (params.where === 'BAD') {
      throw new HttpError(400, JSON.stringify({error: `invalid where expression: ${params.where}`, request: echo}))
    }

    const names = jsonArrayParam(params, 'event', echo)
    let limit = Infinity
    if (params.limit !== undefined) {
      limit = Number(params.limit)
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
        throw new HttpError(
          400,
          JSON.stringify({error: 'limit must be an integer between 1 and 100000', request: echo}),
        )
      }
    }

    const {events} = this
    const zone = this.options.timezone
    // A legacy project: the zone's days, and its wall clock in `time`.
    const first = zone ? zoneDayStart(zone, params.from_date) : from
    const end = zone ? zoneDayStart(zone, new Date((to + 86_400) * 1000).toISOString().slice(0, 10)) : to + 86_400
    const late = this.lateEvents()
    const wanted = names ? new Set(names) : undefined
    function* lines(): Generator<string> {
      let n = 0
      for (const store of late ? [events, late] : [events]) {
        for (const i of store.select(first, end, wanted)) {
          if (n++ >= limit) return
          yield zone ? legacyLine(zone, store.lineAt(i)) : store.lineAt(i)
        }
      }
    }

    return {
      contentType: 'text/plain; charset=utf-8',
      lines: lines(),
      prefix: '',
      suffix: '',
      unit: (line) => `${line}\n`,
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await recordOf(req)
    this.requests.push(request)
    const {endpoint} = request
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    if (this.options.latencyMs) {
      try {
        await sleep(this.options.latencyMs, undefined, {signal: abort.signal})
      } catch {
        return // the client gave up, or the server is closing
      }
    }

    if (!endpoint) {
      sendError(res, 404, JSON.stringify({error: `no such endpoint: ${request.method} ${request.path}`}))
      return
    }

    if (this.options.auth && !authorized(this.options.auth, req.headers.authorization)) {
      sendError(res, 401, JSON.stringify({error: 'Invalid username or secret', request: request.path}), {
        'WWW-Authenticate': 'Basic realm="Mixpanel"',
      })
      return
    }

    const fault = this.takeFault(endpoint, request)
    if (fault && 'status' in fault) {
      sendStatusFault(res, fault, request.path)
      return
    }

    if (fault && 'notAnExport' in fault) {
      res.writeHead(200, {'Content-Type': fault.contentType ?? 'text/html; charset=utf-8'})
      res.end(fault.notAnExport)
      return
    }

    let plan: StreamPlan
    try {
      plan = endpoint === 'export' ? this.exportPlan(request) : this.engagePlan(request, fault)
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      sendError(res, error.status, error.body)
      return
    }

    if (fault && 'emptyBody' in fault) {
      const headers: Record<string, string> = {'Content-Type': plan.contentType}
      if (fault.contentEncoding) headers['Content-Encoding'] = fault.contentEncoding
      res.writeHead(200, headers)
      res.end()
      return
    }

    const gzip = /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))
    await this.stream(res, plan, fault, {gzip, signal: abort.signal})
  }

  /** The late events' store once they have arrived. */
  private lateEvents(): EventStore | undefined {
    const late = this.options.lateEvents
    if (!late) return undefined
    const exports = this.requests.filter((request) => request.endpoint === 'export').length
    if (!this.lateArrived && (late.fromRequest === undefined || exports < late.fromRequest)) return undefined
    this.lateStore ??= eventStore(late.lines)
    return this.lateStore
  }

  private async stream(
    res: ServerResponse,
    plan: StreamPlan,
    fault: Fault | undefined,
    {gzip, signal}: {gzip: boolean; signal: AbortSignal},
  ): Promise<void> {
    const {bytesPerSecond, gzipChunkBytes, gzipLevel = 1} = this.options
    const writer = new BodyWriter(res, {
      batchBytes: gzipChunkBytes ?? defaultBatchBytes,
      bytesPerSecond,
      contentType: plan.contentType,
      gzip,
      gzipLevel,
      pieceBytes: gzipChunkBytes,
      signal,
    })
    const copies = fault && 'duplicateRecords' in fault ? 2 : 1

    if (plan.prefix) await writer.add(plan.prefix)
    /** Records written so far. */
    let n = 0
    /** Apply a record-count fault due before record `next` (undefined: at the end); true when the body is over. */
    const strike = async (next?: string): Promise<boolean> => {
      if (!fault) return false
      if ('stallAfterRecords' in fault && n === fault.stallAfterRecords) {
        await writer.drain()
        await writer.sleep(fault.stallMs)
      } else if ('resetAfterRecords' in fault && n === fault.resetAfterRecords) {
        // Let the K records reach the kernel first, so the client reliably gets them before the close.
        await writer.settled()
        if (fault.hard) res.socket?.resetAndDestroy()
        else res.socket?.destroy()
        return true
      } else if ('terminatedEarlyAfterRecords' in fault && n === fault.terminatedEarlyAfterRecords) {
        // Half of the next record's bytes (possibly cutting a UTF-8 sequence), then the marker line.
        const half = Buffer.from(next === undefined ? '' : plan.unit(next, n))
        await writer.sendBytes(half.subarray(0, Math.floor(half.length / 2)))
        await writer.add(`\n${fault.message ?? 'terminated early'}\n`)
        await writer.end()
        return true
      } else if ('truncateGzipAfterRecords' in fault && n === fault.truncateGzipAfterRecords) {
        await writer.truncate(Buffer.from(next === undefined ? plan.suffix : plan.unit(next, n)))
        return true
      }

      return false
    }

    for (const line of plan.lines) {
      for (let copy = 0; copy < copies; copy++) {
        if (await strike(line)) return
        if (writer.aborted) return
        await writer.add(plan.unit(line, n))
        n++
      }
    }

    // A fault due right after the last record strikes before the suffix (one due later never strikes).
    if (await strike()) return
    if (plan.suffix) await writer.add(plan.suffix)
    await writer.end()
  }

  private takeFault(endpoint: Endpoint, request: RecordedRequest): Fault | undefined {
    const queue = this.faults[endpoint]
    const index = queue.findIndex(({fault}) => !fault.match || fault.match(request))
    if (index === -1) return undefined
    const queued = queue[index]
    queued.remaining--
    if (queued.remaining <= 0) queue.splice(index, 1)
    return queued.fault
  }
}

/** Start a fake Mixpanel on 127.0.0.1 and a free port. Remember to `close()` it. */
export async function startFakeMixpanel(options: FakeMixpanelOptions = {}): Promise<FakeMixpanel> {
  const server = new FakeMixpanelServer(options)
  await server.listen()
  return server
}
