/**
 * The benchmark's core: the scenarios, their baselines, and the report. bench/run.ts is the
 * command line around it; test/bench/bench.test.ts runs it at tiny sizes.
 *
 * Every measured thing runs in its own child process (wall time, CPU time and peak RSS are the
 * child's), against one benchmark server in another process (bench/server.ts), in one run, so the
 * figures are comparable even on a noisy machine.
 */

import {type DateRange, splitRange} from 'mpx-mixpanel-core/internal/mixpanel/dates.js'
import {DEFAULT_CHUNK_DAYS} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- the benchmark runs on the repository's Node 24
import {cp, mkdir, mkdtemp, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {quoteLiteral} from '../src/duckdb/database.js'
import {createTableSql, insertJsonLinesSql} from '../src/duckdb/schemas.js'
import {rssMethod, run, type RunResult} from './measure.js'
import {installPeer, MIXPANEL_IMPORT} from './peers.js'
import {type DayInfo, type ListenerInfo, type ServerConfig, type ServerInfo} from './server.js'

export const root = fileURLToPath(new URL('..', import.meta.url))
const here = (file: string) => join(root, 'bench', file)

export interface BenchOptions {
  /** Per-response bandwidth of the slow network, compressed bytes per second. */
  readonly concurrencyBytesPerSecond: number
  /** Events in the concurrency dataset (30 days, slow network). */
  readonly concurrencyEvents: number
  /** First-byte latency of the slow network. */
  readonly concurrencyLatencyMs: number
  readonly days: number
  /** Events in the main dataset, spread evenly over `days` days. */
  readonly events: number
  readonly gzipLevel: number
  /**
   * Install the npm peers compared with (mixpanel-import) when they are not in `peerCache` yet
   * (default true); without, their rows say they are unavailable.
   */
  readonly installPeers?: boolean
  /** Only these scenario groups (default: all). */
  readonly only?: readonly ScenarioGroup[]
  /** Where the peers are installed (default node_modules/.cache/mpx-bench). */
  readonly peerCache?: string
  /** Profiles served by engage. */
  readonly profiles: number
  /** Runs of each throughput measurement; the fastest counts. */
  readonly repeat: number
  /** Days of the main dataset in the small fetch, for peak RSS (events/days per day). */
  readonly smallDays: number
}

export const scenarioGroups = [
  'transport',
  'naive',
  'stdout',
  'file',
  'duckdb',
  'profiles',
  'memory',
  'concurrency',
  'sync',
] as const
export type ScenarioGroup = (typeof scenarioGroups)[number]

/** A few minutes on a 2-core machine. */
export const fullOptions: BenchOptions = {
  concurrencyBytesPerSecond: 1_000_000,
  concurrencyEvents: 90_000,
  concurrencyLatencyMs: 1000,
  days: 20,
  events: 1_000_000,
  gzipLevel: 6,
  profiles: 200_000,
  repeat: 2,
  smallDays: 2,
}

/** Seconds: a smoke test of every scenario, no meaningful figures. */
export const quickOptions: BenchOptions = {
  concurrencyBytesPerSecond: 2_000_000,
  concurrencyEvents: 6000,
  concurrencyLatencyMs: 100,
  days: 20,
  events: 20_000,
  gzipLevel: 6,
  profiles: 3000,
  repeat: 1,
  smallDays: 2,
}

export type RowStatus = 'failed' | 'ok' | 'unavailable'

export interface Row {
  /** Id of the row this one is compared with. */
  readonly baseline?: string
  /** Uncompressed bytes of the records (JSON text as Mixpanel sends it). */
  readonly bytes: number
  readonly cpuSeconds?: number
  readonly id: string
  readonly label: string
  /** Ids of further rows this one is compared with. */
  readonly moreBaselines?: readonly string[]
  /** Ratios to further baselines, by their id (records/s divided by theirs), e.g. the npm peer. */
  moreRatios?: Record<string, number>
  /** Why a row is not ok: the command's last words. */
  readonly note?: string
  readonly peakRss?: number
  /** This row's records/s divided by its baseline's. */
  ratio?: number
  /** Against the other transport baseline, for rows compared with `transport` (the faster of the two). */
  ratioToOtherTransport?: number
  readonly records: number
  readonly seconds: number
  readonly status: RowStatus
}

export interface BenchReport {
  readonly concurrency?: {
    readonly c1Seconds?: number
    readonly c5Seconds?: number
    readonly chunkDays: number
    readonly days: number
    readonly speedup?: number
  }
  readonly environment: {
    readonly cpuModel: string
    readonly cpus: number
    readonly loadAverageAfter: number[]
    readonly loadAverageBefore: number[]
    readonly node: string
    readonly rssMethod: string
  }
  readonly finishedAt: string
  readonly memory?: {
    readonly normalizedGrowth?: number
    readonly rawGrowth?: number
  }
  readonly options: BenchOptions
  readonly prepareSeconds: number
  readonly rows: Row[]
  readonly startedAt: string
}

const PROJECT = '4242'
const USER = 'bench'
const SECRET = 'bench-secret'
const AUTH = `Basic ${Buffer.from(`${USER}:${SECRET}`).toString('base64')}`

export interface BenchServer {
  close(): void
  readonly info: ServerInfo
}

/** Starts the benchmark server in its own process and waits until its data is ready. */
export async function startBenchServer(config: ServerConfig): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', here('server-main.ts')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    child.once('message', (message: {error?: string; info?: ServerInfo}) =>
      message.info ? resolve(message.info) : reject(new Error(`benchmark server: ${message.error}`)),
    )
    child.once('exit', (code) => reject(new Error(`benchmark server exited (${code})`)))
    child.send(config)
  })
  return {
    close() {
      child.disconnect()
      child.kill()
    },
    info,
  }
}

/** Days of a listener's dataset within a range, and what they hold. */
function totals(days: readonly DayInfo[], range: DateRange): {bytes: number; compressed: number; records: number} {
  const inRange = days.filter((day) => day.day >= range.from && day.day <= range.to)
  return {
    bytes: inRange.reduce((sum, day) => sum + day.size, 0),
    compressed: inRange.reduce((sum, day) => sum + day.compressed, 0),
    records: inRange.reduce((sum, day) => sum + day.records, 0),
  }
}

function exportUrls(listener: ListenerInfo, range: DateRange, chunkDays = DEFAULT_CHUNK_DAYS): string[] {
  return splitRange(range, chunkDays).map(
    (chunk) =>
      `${listener.url}/api/2.0/export?${new URLSearchParams({from_date: chunk.from, project_id: PROJECT, to_date: chunk.to})}`,
  )
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

/** A curl config fetching `urls` with mpx's credentials; bodies to `output` (else to stdout, one after the other). */
async function writeCurlConfig(path: string, urls: readonly string[], output?: string): Promise<void> {
  await writeFile(
    path,
    [
      'compressed',
      'silent',
      'show-error',
      'fail',
      `header = "Authorization: ${AUTH}"`,
      ...urls.flatMap((url) => [`url = "${url}"`, ...(output ? [`output = "${output}"`] : [])]),
    ].join('\n') + '\n',
  )
}

/**
 * The do-it-yourself pipeline's SQL: a file of raw export lines into a table of mpx's events schema,
 * normalized as mpx does it. Each line is read whole (read_json_objects keeps its text), so that an
 * event without `$insert_id` gets mpx's derived id (`mpx-` and the first 32 hex digits of the
 * line's SHA-256: derivedInsertId in src/records/events.ts); `properties` loses the three keys mpx
 * moves into columns (a JSON merge patch with nulls removes them). It differs from mpx in what a
 * script would not bother with: no duplicate check, no bad-record quarantine, no legacy-timezone
 * conversion, and numbers in `properties` rewritten by DuckDB's JSON writer (`1.50` as `1.5`).
 */
export function diySql(file: string): string[] {
  const insertId = `p->>'$."$insert_id"'`
  return [
    createTableSql('events', schemas.events),
    `INSERT INTO events SELECT line->>'$.event', to_timestamp((p->>'$.time')::DOUBLE), coalesce(p->>'$.distinct_id', ''), ` +
      `CASE WHEN coalesce(${insertId}, '') = '' THEN 'mpx-' || left(sha256(line::VARCHAR), 32) ELSE ${insertId} END, ` +
      `json_merge_patch(p, '{"time":null,"distinct_id":null,"$insert_id":null}') ` +
      `FROM (SELECT json AS line, json->'$.properties' AS p ` +
      `FROM read_json_objects(${quoteLiteral(file)}, format = 'newline_delimited'))`,
  ]
}

async function removeDatabase(path: string): Promise<void> {
  await Promise.all([rm(path, {force: true}), rm(`${path}.wal`, {force: true})])
}

/** Last lines of a failed command's stderr, on one line. */
function lastWords(result: RunResult): string {
  return result.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300)
}

interface Measure {
  readonly args: readonly string[]
  readonly baseline?: string
  /** Runs before each repetition, e.g. to remove the previous one's database. */
  readonly before?: () => Promise<void>
  readonly bytes: number
  readonly command?: string
  readonly env?: Record<string, string>
  readonly id: string
  readonly label: string
  /** Ids of further rows this one is compared with (see Row.moreBaselines). */
  readonly moreBaselines?: readonly string[]
  readonly records: number
  /** How to tell that the command is not there yet (a missing command or sink): the row says unavailable. */
  readonly unavailable?: RegExp
}

export type Log = (message: string) => void

/**
 * A private copy of the built CLI (package.json, bin, dist; node_modules linked), so that a build
 * run meanwhile (which empties dist/) cannot break the benchmark half-way, with the oclif manifest
 * that packing adds (`npm pack` runs `oclif manifest`): mpx as users install it, which loads only
 * the command it runs, not every command module as a checkout without a manifest does. Returns
 * bin/run.js.
 */
export async function snapshotCli(directory: string): Promise<string> {
  if (!existsSync(join(root, 'dist', 'commands', 'fetch', 'events.js'))) {
    throw new Error('mpx is not built: run `npm run build` first')
  }

  await mkdir(directory, {recursive: true})
  await Promise.all(
    ['package.json', 'bin', 'dist']
      .filter((name) => existsSync(join(root, name)))
      .map(async (name) => cp(join(root, name), join(directory, name), {recursive: true})),
  )
  await symlink(join(root, 'node_modules'), join(directory, 'node_modules'), 'dir')
  const manifest = await run({
    args: [join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'],
    command: process.execPath,
    cwd: directory,
  })
  if (manifest.code !== 0) throw new Error(`oclif manifest failed: ${lastWords(manifest)}`)
  return join(directory, 'bin', 'run.js')
}

export async function runBench(options: BenchOptions, log: Log = () => {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString()
  const loadAverageBefore = loadavg()
  const groups = new Set<ScenarioGroup>(options.only ?? scenarioGroups)
  const from = '2024-01-01'
  const to = addDays(from, options.days - 1)
  const dataset = {count: options.events, from, seed: 1, to}
  const slowDays = 30
  const config: ServerConfig = {
    gzipLevel: options.gzipLevel,
    listeners: [
      {events: dataset, name: 'main', profiles: groups.has('profiles') ? options.profiles : 0},
      {
        bytesPerSecond: options.concurrencyBytesPerSecond,
        events: {count: options.concurrencyEvents, from, seed: 2, to: addDays(from, slowDays - 1)},
        latencyMs: options.concurrencyLatencyMs,
        name: 'slow',
      },
    ],
  }
  log(`preparing ${options.events} events, ${options.profiles} profiles (gzip level ${options.gzipLevel})…`)
  const server = await startBenchServer(config)
  const [main, slow] = server.info.listeners
  log(`prepared in ${server.info.prepareSeconds.toFixed(1)}s`)
  const scratch = await mkdtemp(join(tmpdir(), 'mpx-bench-'))
  const rows: Row[] = []
  let bin: string
  try {
    bin = await snapshotCli(join(scratch, 'mpx'))
  } catch (error) {
    server.close()
    await rm(scratch, {force: true, recursive: true})
    throw error
  }

  const mpxEnv = (url: string): Record<string, string> => ({
    HOME: scratch,
    MP_PROJECT_ID: PROJECT,
    MP_SECRET: SECRET,
    MP_USERNAME: USER,
    MPX_API_URL: url,
    MPX_CONFIG: join(scratch, 'config.json'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    XDG_CONFIG_HOME: join(scratch, 'config'),
    XDG_DATA_HOME: join(scratch, 'data'),
  })
  const mpx = (...args: string[]) => [bin, ...args]
  const whole = {from, to}
  const all = totals(main.days, whole)

  const measure = async (spec: Measure, repeat = options.repeat, stdout?: string): Promise<Row> => {
    let best: RunResult | undefined
    for (let i = 0; i < repeat; i++) {
      await spec.before?.()

      const result = await run({
        args: spec.args,
        command: spec.command ?? process.execPath,
        cwd: root,
        env: spec.env,
        stdout,
      })
      if (result.code !== 0) {
        best = result
        break
      }

      if (!best || result.seconds < best.seconds) best = result
    }

    const result = best as RunResult
    const unavailable = result.code !== 0 && spec.unavailable?.test(result.stderr)
    const status: RowStatus = result.code === 0 ? 'ok' : unavailable ? 'unavailable' : 'failed'
    const row: Row = {
      baseline: spec.baseline,
      bytes: spec.bytes,
      cpuSeconds: result.cpuSeconds,
      id: spec.id,
      label: spec.label,
      moreBaselines: spec.moreBaselines,
      note: status === 'ok' ? undefined : lastWords(result),
      peakRss: result.peakRss,
      records: spec.records,
      seconds: result.seconds,
      status,
    }
    log(
      `${row.label}: ${status === 'ok' ? `${row.seconds.toFixed(2)}s${row.records > 0 ? `, ${formatRate(row.records / row.seconds)}/s` : ''}` : `${status} (${row.note})`}`,
    )
    rows.push(row)
    return row
  }

  /** A row for something that could not run here, and why. */
  const unavailable = (spec: Pick<Measure, 'bytes' | 'id' | 'label' | 'records'>, why: string): Row => {
    const row: Row = {...spec, note: why, seconds: 0, status: 'unavailable'}
    log(`${row.label}: unavailable (${why})`)
    rows.push(row)
    return row
  }

  let concurrency: BenchReport['concurrency']
  let memory: BenchReport['memory']
  try {
    const urls = exportUrls(main, whole)
    const hasCurl = existsSync('/usr/bin/curl') || existsSync('/bin/curl')
    // curl as a user runs it: `curl --compressed -K CONFIG > FILE`, every body to stdout.
    const curlToStdout = join(scratch, 'curl-stdout.conf')
    await writeCurlConfig(curlToStdout, urls)
    // What every mpx figure includes: starting Node and the CLI, for a fetch of nothing (best of
    // at least 5: a fraction of a second, easily lengthened by a neighbour); and Node alone.
    const startupRepeat = Math.max(options.repeat, 5)
    await measure(
      {
        args: mpx('fetch:events', '2023-01-01', '2023-01-01', '--quiet', '--stdout'),
        bytes: 0,
        env: mpxEnv(main.url),
        id: 'mpx-startup',
        label: 'mpx start-up (an empty day)',
        records: 0,
      },
      startupRepeat,
    )
    await measure(
      {args: ['-e', ''], bytes: 0, id: 'node-startup', label: 'node -e "" (Node alone)', records: 0},
      startupRepeat,
    )
    // Where the rest of start-up goes: the two largest module graphs a fetch loads, each alone in a
    // Node process (compile cache on, as bin/run.js has it).
    for (const [id, module] of [
      ['import-oclif', '@oclif/core'],
      ['import-got', 'got'],
    ]) {
      await measure(
        {
          args: ['--input-type=module', '-e', `await import(${JSON.stringify(module)})`],
          bytes: 0,
          env: {NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache')},
          id,
          label: `node: import ${module} (start-up share)`,
          records: 0,
        },
        startupRepeat,
      )
    }

    if (groups.has('transport')) {
      const curlConfig = join(scratch, 'curl.conf')
      await writeCurlConfig(curlConfig, urls, '/dev/null')
      if (hasCurl) {
        await measure({
          args: ['-K', curlConfig],
          bytes: all.bytes,
          command: 'curl',
          id: 'transport-curl',
          label: 'transport: curl --compressed',
          records: all.records,
        })
      }

      // Node's best: zlib in mpx's pieces (1 MB, 4 MB ahead), its limit in this runtime.
      await measure({
        args: [
          here('transport.ts'),
          JSON.stringify({
            aheadBytes: 4 * 1024 * 1024,
            auth: AUTH,
            chunkBytes: 1024 * 1024,
            requests: urls.map((url) => ({url})),
          }),
        ],
        bytes: all.bytes,
        id: 'transport-node',
        label: 'transport: node http+zlib',
        records: all.records,
      })
    }

    if (groups.has('naive')) {
      await measure({
        args: [here('naive.ts'), JSON.stringify({auth: AUTH, urls})],
        bytes: all.bytes,
        id: 'naive',
        label: 'naive node pipeline',
        records: all.records,
      })
    }

    const fetchEvents = (range: DateRange, ...flags: string[]) =>
      mpx('fetch:events', range.from, range.to, '--quiet', ...flags)
    if (groups.has('stdout')) {
      await measure({
        args: fetchEvents(whole, '--stdout', '--raw'),
        baseline: 'transport',
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-raw',
        label: 'mpx fetch:events --stdout --raw',
        records: all.records,
      })
      // Gunzip is most of a raw export's work and runs on one core per response: two chunks at once
      // use both cores (curl and the default fetch inflate one body after the other).
      await measure({
        args: fetchEvents(whole, '--stdout', '--raw', '--concurrency', '2'),
        baseline: 'transport',
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-raw-c2',
        label: 'mpx fetch:events --stdout --raw --concurrency 2',
        records: all.records,
      })
      await measure({
        args: fetchEvents(whole, '--stdout'),
        baseline: 'naive',
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-normalized',
        label: 'mpx fetch:events --stdout',
        records: all.records,
      })
    }

    if (groups.has('file')) {
      // The raw export into a file: curl, mpx, and the npm peer users would pick instead.
      const file = join(scratch, 'export.jsonl')
      const removeFile = async () => rm(file, {force: true})
      const fileSpec = {bytes: all.bytes, records: all.records}
      if (hasCurl) {
        await measure(
          {
            ...fileSpec,
            args: ['-K', curlToStdout],
            before: removeFile,
            command: 'curl',
            id: 'curl-file',
            label: 'curl --compressed > FILE',
          },
          options.repeat,
          file,
        )
      }

      const peerSpec = {...fileSpec, id: 'mixpanel-import', label: `npm ${MIXPANEL_IMPORT.name} export to FILE`}
      const peer = await installPeer(
        MIXPANEL_IMPORT,
        options.peerCache ?? join(root, 'node_modules', '.cache', 'mpx-bench'),
        {
          install: options.installPeers ?? true,
          log,
        },
      )
      if ('packageDir' in peer) {
        await measure({
          ...peerSpec,
          args: [
            here('mixpanel-import.ts'),
            JSON.stringify({
              acct: USER,
              exportUrl: `${main.url}/api/2.0/export`,
              file,
              from: whole.from,
              packageDir: peer.packageDir,
              pass: SECRET,
              project: PROJECT,
              to: whole.to,
            }),
          ],
          before: removeFile,
        })
      } else {
        unavailable(peerSpec, peer.reason)
      }

      await measure({
        ...fileSpec,
        args: fetchEvents(whole, '--raw', '-o', file),
        baseline: 'curl-file',
        before: removeFile,
        env: mpxEnv(main.url),
        id: 'mpx-raw-file',
        label: 'mpx fetch:events --raw -o FILE',
        moreBaselines: ['mixpanel-import'],
      })
      await removeFile()
    }

    if (groups.has('duckdb')) {
      // The do-it-yourself pipeline: curl's file, normalized into the same table by DuckDB's SQL.
      const diyDb = join(scratch, 'diy.duckdb')
      const diyFile = join(scratch, 'diy-export.jsonl')
      const diySpec = {
        bytes: all.bytes,
        id: 'diy-duckdb',
        label: 'DIY: curl --compressed > FILE, DuckDB SQL',
        records: all.records,
      }
      if (hasCurl) {
        await measure({
          ...diySpec,
          args: [
            here('duckdb-load.ts'),
            JSON.stringify({curlConfig: curlToStdout, db: diyDb, file: diyFile, sql: diySql(diyFile)}),
          ],
          async before() {
            await removeDatabase(diyDb)
            await rm(diyFile, {force: true})
          },
        })
        await Promise.all([removeDatabase(diyDb), rm(diyFile, {force: true})])
      } else {
        unavailable(diySpec, 'curl is not installed')
      }

      // DuckDB's own reference loads the same records, normalized by mpx, from a local file.
      const jsonl = join(scratch, 'events.jsonl')
      const prepared = await run({
        args: fetchEvents(whole, '--stdout'),
        command: process.execPath,
        cwd: root,
        env: mpxEnv(main.url),
        stdout: jsonl,
      })
      if (prepared.code === 0) {
        const schema = schemas.events
        const fileBytes = (await stat(jsonl)).size
        const readJsonDb = join(scratch, 'read-json.duckdb')
        await measure({
          args: [
            here('duckdb-load.ts'),
            JSON.stringify({
              db: readJsonDb,
              sql: [createTableSql('events', schema), insertJsonLinesSql('events', schema, [jsonl])],
            }),
          ],
          before: async () => removeDatabase(readJsonDb),
          bytes: fileBytes,
          id: 'duckdb-read-json',
          label: 'DuckDB read_json of the same records',
          records: all.records,
        })
        await rm(jsonl, {force: true})
      }

      const mpxDb = join(scratch, 'mpx.duckdb')
      await measure({
        args: fetchEvents(whole, '--db', mpxDb),
        baseline: 'duckdb-read-json',
        before: async () => removeDatabase(mpxDb),
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-duckdb',
        label: 'mpx fetch:events into DuckDB',
        moreBaselines: ['diy-duckdb'],
        records: all.records,
        unavailable: /not available yet/i,
      })
    }

    if (groups.has('sync')) {
      // A backfill by sync:events against one fetch:events of the same range into DuckDB (target:
      // at most 1.15x its time, i.e. a ratio of at least 0.87): the sync commits each chunk on its
      // own, recording its days, where the fetch commits once.
      const fetchDb = join(scratch, 'sync-baseline.duckdb')
      await measure({
        args: fetchEvents(whole, '--db', fetchDb),
        before: async () => removeDatabase(fetchDb),
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-sync-baseline',
        label: 'mpx fetch:events into DuckDB (sync baseline)',
        records: all.records,
      })
      const syncDb = join(scratch, 'sync.duckdb')
      await measure({
        args: mpx('sync:events', '--quiet', '--db', syncDb, '--from', whole.from, '--to', whole.to),
        baseline: 'mpx-sync-baseline',
        before: async () => removeDatabase(syncDb),
        bytes: all.bytes,
        env: mpxEnv(main.url),
        id: 'mpx-sync',
        label: 'mpx sync:events backfill into DuckDB',
        records: all.records,
        unavailable: /command sync:events not found/i,
      })
    }

    if (groups.has('profiles')) {
      const {pages} = main.profiles
      const requests = Array.from({length: pages}, (_, page) => ({
        form: new URLSearchParams({
          page: String(page),
          ...(page > 0 ? {session_id: 'bench-session-1'} : {}),
        }).toString(),
        url: `${main.url}/api/2.0/engage?project_id=${PROJECT}`,
      }))
      await measure({
        args: [here('transport.ts'), JSON.stringify({auth: AUTH, concurrency: 5, requests})],
        bytes: main.profiles.size,
        id: 'transport-profiles',
        label: 'transport: engage pages, node http+zlib (5 at a time)',
        records: main.profiles.records,
      })
      await measure({
        args: mpx('fetch:profiles', '--quiet', '--stdout'),
        baseline: 'transport-profiles',
        bytes: main.profiles.size,
        env: mpxEnv(main.url),
        id: 'mpx-profiles',
        label: 'mpx fetch:profiles --stdout',
        records: main.profiles.records,
        unavailable: /command fetch:profiles not found|not available yet/i,
      })
    }

    if (groups.has('memory')) {
      const small = {from, to: addDays(from, options.smallDays - 1)}
      const few = totals(main.days, small)
      const smallRaw = await measure(
        {
          args: fetchEvents(small, '--stdout', '--raw'),
          bytes: few.bytes,
          env: mpxEnv(main.url),
          id: 'mpx-raw-small',
          label: `mpx fetch:events --stdout --raw (${formatCount(few.records)} events)`,
          records: few.records,
        },
        1,
      )
      const smallNormalized = await measure(
        {
          args: fetchEvents(small, '--stdout'),
          bytes: few.bytes,
          env: mpxEnv(main.url),
          id: 'mpx-normalized-small',
          label: `mpx fetch:events --stdout (${formatCount(few.records)} events)`,
          records: few.records,
        },
        1,
      )
      const growth = (big: Row | undefined, little: Row) =>
        big?.peakRss && little.peakRss ? big.peakRss / little.peakRss : undefined
      memory = {
        normalizedGrowth: growth(
          rows.find((row) => row.id === 'mpx-normalized'),
          smallNormalized,
        ),
        rawGrowth: growth(
          rows.find((row) => row.id === 'mpx-raw'),
          smallRaw,
        ),
      }
    }

    if (groups.has('concurrency')) {
      const range = {from, to: addDays(from, slowDays - 1)}
      const slowTotals = totals(slow.days, range)
      const spec = (n: number): Measure => ({
        args: fetchEvents(range, '--stdout', '--concurrency', String(n)),
        bytes: slowTotals.bytes,
        env: mpxEnv(slow.url),
        id: `mpx-concurrency-${n}`,
        label: `mpx fetch:events, ${slowDays} days, --concurrency ${n} (slow network)`,
        records: slowTotals.records,
        unavailable: /Nonexistent flag/i,
      })
      const c1 = await measure(spec(1), 1)
      const c5 = await measure({...spec(5), baseline: 'mpx-concurrency-1'}, 1)
      concurrency = {
        c1Seconds: c1.status === 'ok' ? c1.seconds : undefined,
        c5Seconds: c5.status === 'ok' ? c5.seconds : undefined,
        chunkDays: DEFAULT_CHUNK_DAYS,
        days: slowDays,
        speedup: c1.status === 'ok' && c5.status === 'ok' ? c1.seconds / c5.seconds : undefined,
      }
    }
  } finally {
    server.close()
    await rm(scratch, {force: true, recursive: true})
  }

  computeRatios(rows)
  return {
    concurrency,
    environment: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadAverageAfter: loadavg(),
      loadAverageBefore,
      node: process.version,
      rssMethod: rssMethod(),
    },
    finishedAt: new Date().toISOString(),
    memory,
    options,
    prepareSeconds: server.info.prepareSeconds,
    rows,
    startedAt,
  }
}

/** records/s of a row divided by its baseline's; `transport` is the faster of curl and node. */
export function computeRatios(rows: Row[]): void {
  const rate = (row: Row | undefined) => (row && row.status === 'ok' ? row.records / row.seconds : undefined)
  const byId = (id: string): Row | undefined => {
    if (id !== 'transport') return rows.find((row) => row.id === id)
    const candidates = rows.filter((row) => row.id.startsWith('transport-') && row.id !== 'transport-profiles')
    return candidates.sort((a, b) => (rate(b) ?? 0) - (rate(a) ?? 0))[0]
  }

  for (const row of rows) {
    if (!row.baseline && !row.moreBaselines) continue
    const mine = rate(row)
    const baseline = row.baseline ? byId(row.baseline) : undefined
    const theirs = rate(baseline)
    if (mine !== undefined && theirs !== undefined) row.ratio = mine / theirs
    for (const id of row.moreBaselines ?? []) {
      const other = rate(byId(id))
      if (mine !== undefined && other !== undefined) row.moreRatios = {...row.moreRatios, [id]: mine / other}
    }

    if (row.baseline === 'transport' && mine !== undefined) {
      const other = rows.find(
        (candidate) =>
          candidate.id.startsWith('transport-') && candidate.id !== 'transport-profiles' && candidate !== baseline,
      )
      const otherRate = rate(other)
      if (otherRate !== undefined) row.ratioToOtherTransport = mine / otherRate
    }
  }
}

/**
 * About the best DuckDB fetch this machine allows: DuckDB's load (the read_json row's CPU time)
 * and the fetch itself (the `--stdout` row's, which receives, decompresses and normalizes the same
 * records) share the cores, so even perfectly overlapped they take about their CPU time over the
 * cores. An estimate, not a bound: DuckDB spends somewhat less CPU on fewer threads. Undefined
 * without the three rows.
 */
export function duckdbCeiling(
  report: Pick<BenchReport, 'environment' | 'rows'>,
): undefined | {diyRatio?: number; ratio: number; seconds: number} {
  const row = (id: string) => report.rows.find((candidate) => candidate.id === id && candidate.status === 'ok')
  const readJson = row('duckdb-read-json')
  const fetch = row('mpx-normalized')
  if (!readJson?.cpuSeconds || !fetch?.cpuSeconds || !row('mpx-duckdb') || readJson.records !== fetch.records) return
  const seconds = (readJson.cpuSeconds + fetch.cpuSeconds) / report.environment.cpus
  const diy = row('diy-duckdb')
  const best = Math.max(seconds, readJson.seconds)
  return {
    ratio: readJson.seconds / best,
    seconds,
    ...(diy && diy.records === fetch.records ? {diyRatio: diy.seconds / best} : {}),
  }
}

/**
 * The raw export against curl, split in two: mpx's transfer (the --raw row less the start-up row:
 * download, gunzip, line checks, output) and its start-up, which curl (a few ms) hardly has. Says
 * how short start-up must be for a ratio of `goal` at this size. Undefined without the rows.
 */
export function rawBreakdown(
  report: Pick<BenchReport, 'rows'>,
  goal = 0.8,
):
  | undefined
  | {
      concurrentRatio?: number
      curlSeconds: number
      ratio: number
      startupNeeded: number
      startupSeconds: number
      transferSeconds: number
    } {
  const row = (id: string) => report.rows.find((candidate) => candidate.id === id && candidate.status === 'ok')
  const [curl, raw, startup] = ['transport-curl', 'mpx-raw', 'mpx-startup'].map((id) => row(id))
  if (!curl || !raw || !startup || curl.records !== raw.records) return
  const transferSeconds = Math.max(0, raw.seconds - startup.seconds)
  const concurrent = row('mpx-raw-c2')
  return {
    curlSeconds: curl.seconds,
    ratio: curl.seconds / raw.seconds,
    startupNeeded: curl.seconds / goal - transferSeconds,
    startupSeconds: startup.seconds,
    transferSeconds,
    ...(concurrent && concurrent.records === curl.records ? {concurrentRatio: curl.seconds / concurrent.seconds} : {}),
  }
}

export interface Target {
  readonly goal: string
  readonly measured: string
  readonly met: boolean
  readonly name: string
}

/** The performance targets (issue 17), each as measured in this run; those without their rows are left out. */
export function targets(report: Pick<BenchReport, 'rows'>): Target[] {
  const row = (id: string) => report.rows.find((candidate) => candidate.id === id && candidate.status === 'ok')
  const rate = (id: string) => {
    const found = row(id)
    return found && found.records > 0 ? found.records / found.seconds : undefined
  }

  const ratio = (id: string, baseline: string) => {
    const [mine, theirs] = [rate(id), rate(baseline)]
    return mine !== undefined && theirs !== undefined ? mine / theirs : undefined
  }

  const found: Target[] = []
  const atLeast = (name: string, value: number | undefined, goal: number, of: string) => {
    if (value !== undefined)
      found.push({goal: `>= ${goal}x`, measured: `${value.toFixed(2)}x ${of}`, met: value >= goal, name})
  }

  atLeast('DuckDB fetch', ratio('mpx-duckdb', 'diy-duckdb'), 1.25, 'the DIY pipeline')
  atLeast('raw --stdout', ratio('mpx-raw', 'transport-curl'), 0.8, 'curl')
  atLeast('raw -o FILE', ratio('mpx-raw-file', 'curl-file'), 0.8, 'curl > FILE')
  atLeast('normalized --stdout', ratio('mpx-normalized', 'naive'), 2, 'the naive pipeline')
  const startup = row('mpx-startup')
  if (startup) {
    found.push({
      goal: '< 0.2 s',
      measured: `${startup.seconds.toFixed(2)} s`,
      met: startup.seconds < 0.2,
      name: 'start-up',
    })
  }

  // A sync's backfill against one fetch of the same range: its time, at most 1.15x (issue 12).
  const [sync, syncBaseline] = [row('mpx-sync'), row('mpx-sync-baseline')]
  if (sync && syncBaseline) {
    const times = sync.seconds / syncBaseline.seconds
    found.push({
      goal: '<= 1.15x',
      measured: `${times.toFixed(2)}x one fetch's time`,
      met: times <= 1.15 + 1e-9,
      name: 'sync:events backfill',
    })
  }

  const streaming = ['mpx-raw', 'mpx-normalized'].map((id) => row(id)?.peakRss).filter((rss) => rss !== undefined)
  if (streaming.length > 0) {
    const peak = Math.max(...streaming) / 1024 / 1024
    found.push({goal: '< 150 MB', measured: `${peak.toFixed(0)} MB`, met: peak < 150, name: 'streaming peak RSS'})
  }

  return found
}

const count = new Intl.NumberFormat('en-US')

export function formatCount(n: number): string {
  return count.format(n)
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(0)}k`
}

/** What the figures say about the targets, and why those not met are not: a line each. */
function analysisNotes(report: BenchReport): string[] {
  const {environment} = report
  const notes: string[] = []
  const checked = targets(report)
  if (checked.length > 0) {
    notes.push(
      `Targets: ${checked.map((target) => `${target.name} ${target.measured} (${target.goal}: ${target.met ? 'met' : 'NOT met'})`).join('; ')}`,
    )
  }

  const startupRow = (id: string) => report.rows.find((row) => row.id === id && row.status === 'ok')?.seconds
  const [startupAll, nodeAlone, oclifImport, gotImport] = [
    'mpx-startup',
    'node-startup',
    'import-oclif',
    'import-got',
  ].map((id) => startupRow(id))
  if (startupAll !== undefined && nodeAlone !== undefined && oclifImport !== undefined && gotImport !== undefined) {
    const oclifShare = oclifImport - nodeAlone
    const gotShare = gotImport - nodeAlone
    notes.push(
      `Start-up (the CLI as installed, with its oclif manifest): ${startupAll.toFixed(2)}s, of which Node itself ${nodeAlone.toFixed(2)}s, ` +
        `importing @oclif/core ${oclifShare.toFixed(2)}s and got ${gotShare.toFixed(2)}s (each alone); ` +
        `the rest, ${(startupAll - nodeAlone - oclifShare - gotShare).toFixed(2)}s, is oclif's config and command, mpx's modules and the request`,
    )
  }

  const raw = rawBreakdown(report)
  if (raw) {
    notes.push(
      `Raw export vs curl: mpx's transfer (the --stdout --raw row less start-up) takes ${raw.transferSeconds.toFixed(2)}s ` +
        `against curl's ${raw.curlSeconds.toFixed(2)}s (${(raw.curlSeconds / Math.max(raw.transferSeconds, 1e-9)).toFixed(2)}x); ` +
        `with start-up (${raw.startupSeconds.toFixed(2)}s, curl's is a few ms) ${raw.ratio.toFixed(2)}x curl; ` +
        `0.8x at this size needs start-up under ${raw.startupNeeded.toFixed(2)}s` +
        (raw.concurrentRatio === undefined
          ? ''
          : `; two chunks inflated at once (--concurrency 2, both cores): ${raw.concurrentRatio.toFixed(2)}x curl`),
    )
  }

  const ceiling = duckdbCeiling(report)
  if (ceiling) {
    notes.push(
      `DuckDB fetch ceiling on ${environment.cpus} cores (estimate): read_json's CPU time plus the fetch's own (the --stdout row), ` +
        `spread over the cores, take ${ceiling.seconds.toFixed(2)}s, about ${ceiling.ratio.toFixed(2)}x read_json at best` +
        (ceiling.diyRatio === undefined ? '' : ` and ${ceiling.diyRatio.toFixed(2)}x the DIY pipeline`),
    )
  }

  return notes
}

/** The report as a Markdown table, and the summary lines under it. */
export function formatReport(report: BenchReport): string {
  const header = ['scenario', 'records', 'time (s)', 'records/s', 'MB/s', 'CPU (s)', 'peak RSS (MB)', 'vs baseline']
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`]
  const transports = report.rows.filter(
    (row) => row.status === 'ok' && row.id.startsWith('transport-') && row.id !== 'transport-profiles',
  )
  const fastest = [...transports].sort((a, b) => a.seconds / a.records - b.seconds / b.records)[0]
  const other = transports.find((row) => row !== fastest)
  const baselineName = (id: string) => (id === 'transport' ? (fastest?.id ?? id) : id)
  for (const row of report.rows) {
    const ok = row.status === 'ok'
    const cells = [
      row.label,
      formatCount(row.records),
      ok ? row.seconds.toFixed(2) : row.status,
      ok && row.records > 0 ? formatRate(row.records / row.seconds) : '',
      ok && row.records > 0 ? (row.bytes / 1e6 / row.seconds).toFixed(0) : '',
      ok && row.cpuSeconds !== undefined ? row.cpuSeconds.toFixed(2) : '',
      row.peakRss === undefined ? '' : (row.peakRss / 1024 / 1024).toFixed(0),
      [
        row.ratio === undefined
          ? ''
          : `${row.ratio.toFixed(2)}x ${baselineName(row.baseline ?? '')}` +
            (row.ratioToOtherTransport === undefined ? '' : `, ${row.ratioToOtherTransport.toFixed(2)}x ${other?.id}`),
        ...Object.entries(row.moreRatios ?? {}).map(([id, ratio]) => `${ratio.toFixed(2)}x ${id}`),
      ]
        .filter(Boolean)
        .join(', '),
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }

  const notes: string[] = []
  const {concurrency, environment, memory} = report
  if (memory?.rawGrowth !== undefined || memory?.normalizedGrowth !== undefined) {
    const growth = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`)
    notes.push(
      `Peak RSS, full fetch vs ${report.options.smallDays}-day fetch: raw ${growth(memory.rawGrowth)}, normalized ${growth(memory.normalizedGrowth)}`,
    )
  }

  if (concurrency) {
    notes.push(
      concurrency.speedup === undefined
        ? `--concurrency 5 vs 1 over ${concurrency.days} days: not measured`
        : `--concurrency 5 vs 1 over ${concurrency.days} days (chunks of ${concurrency.chunkDays} days, ` +
            `${report.options.concurrencyLatencyMs} ms latency, ${(report.options.concurrencyBytesPerSecond / 1e6).toFixed(1)} MB/s per connection): ` +
            `${concurrency.speedup.toFixed(2)}x faster (${concurrency.c1Seconds?.toFixed(1)}s vs ${concurrency.c5Seconds?.toFixed(1)}s)`,
    )
  }

  notes.push(...analysisNotes(report))

  for (const row of report.rows) if (row.note) notes.push(`${row.label}: ${row.status}: ${row.note}`)
  notes.push(
    `${environment.cpus} x ${environment.cpuModel}, Node ${environment.node}, load average ` +
      `${environment.loadAverageBefore.map((n) => n.toFixed(1)).join(' ')} before, ` +
      `${environment.loadAverageAfter.map((n) => n.toFixed(1)).join(' ')} after; peak RSS from ${environment.rssMethod === 'time' ? '/usr/bin/time' : environment.rssMethod}`,
  )
  return [...lines, '', ...notes.map((note) => `- ${note}`)].join('\n')
}

/** Writes the report as JSON under bench/results/ and returns the file's path. */
export async function saveReport(report: BenchReport, directory = join(root, 'bench', 'results')): Promise<string> {
  await mkdir(directory, {recursive: true})
  const file = join(directory, `bench-${report.startedAt.replaceAll(/[:.]/g, '-')}.json`)
  await writeFile(file, JSON.stringify(report, null, 2) + '\n')
  return file
}
