/**
 * The fault matrix: every way Mixpanel fails in production (/work/shared/mixpanel-api.md), through
 * the real binary, for each output a user can choose. For each cell, either the output is exactly
 * the fault-free output (same records, same order, none twice, none missing), or the command fails
 * with the documented exit code and one line on stderr, having printed only whole records of the
 * fault-free output, in order, or having left the database exactly as it was.
 *
 * The commands are spawned up front, a few at a time (each against a fake Mixpanel of its own);
 * the tests then check what each one did.
 */

import {expect} from 'chai'
import {copyFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type CliResult, runMpx} from '../support/cli.js'
import {
  databaseBytes,
  type DatabaseSnapshot,
  E2E_ACCOUNT,
  expectCleanPrefix,
  expectNoSecret,
  expectOneLineError,
  linesOf,
  pool,
  SECRET,
  snapshotDatabase,
  USERNAME,
  WRONG_SECRET,
} from '../support/e2e.js'
import {
  type Endpoint,
  type FakeMixpanelOptions,
  type Fault,
  type RecordedRequest,
  startFakeMixpanel,
} from '../support/fake-mixpanel.js'
import {dayStartSeconds, generateEvents, generateProfiles} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

type Kind = 'events' | 'profiles'
type Output = 'append' | 'duckdb' | 'raw' | 'stdout'

/** 300 events over ten days: with 7-day chunks, chunk 1 and 2 hold events, chunk 3 (from the 15th) none. */
const events = generateEvents({count: 300, from: '2024-01-01', seed: 61, to: '2024-01-10'})
/** Events of chunk 1 (the 1st to the 7th): printed before anything can go wrong in chunk 2. */
const chunk1Count = Array.from({length: events.count}, (_, i) => events.timeAt(i)).filter(
  (time) => time < dayStartSeconds('2024-01-08'),
).length
/** 730 profiles, 100 a page: pages 0 to 7. */
const profiles = generateProfiles({count: 730, seed: 62})

const command: Record<Kind, string[]> = {
  events: ['fetch:events', '2024-01-01', '2024-01-21'],
  profiles: ['fetch:profiles'],
}
const endpoint: Record<Kind, Endpoint> = {events: 'export', profiles: 'engage'}
const outputs: Record<Kind, Output[]> = {
  events: ['stdout', 'raw', 'duckdb', 'append'],
  profiles: ['stdout', 'raw', 'duckdb'],
}
const outputTitle: Record<Output, string> = {
  append: 'DuckDB --append',
  duckdb: 'DuckDB --replace',
  raw: '--stdout --raw',
  stdout: '--stdout',
}

function outputArgs(output: Output, db: string): string[] {
  switch (output) {
    case 'append': {
      return ['--db', db, '--append']
    }

    case 'duckdb': {
      return ['--db', db, '--replace']
    }

    case 'raw': {
      return ['--stdout', '--raw']
    }

    case 'stdout': {
      return ['--stdout']
    }
  }
}

interface MatrixCase {
  readonly args?: readonly string[]
  /** Mixpanel sends every record twice. */
  readonly duplicates?: boolean
  readonly env?: Readonly<Record<string, string>>
  /** The command must fail with this exit code and a reason matching `reason`. Otherwise it must succeed. */
  readonly fails?: {readonly code: number; readonly reason: RegExp}
  /** Faults queued on the case's endpoint, in order: each serves the next `times` matching requests. */
  readonly faults?: ReadonlyArray<readonly [Fault, number]>
  readonly kind: Kind
  readonly name: string
  /** The outputs to try (default: every one of the kind for a failure, all but --append for a success). */
  readonly outputs?: readonly Output[]
  /** A failure after this many records of the fault-free output: --stdout prints them first. */
  readonly printsFirst?: number
  /** False when the fault needs no second request (a succeeding case otherwise must have retried). */
  readonly retried?: boolean
  readonly server?: Partial<FakeMixpanelOptions>
}

function withKind(kind: Kind, cases: ReadonlyArray<Omit<MatrixCase, 'kind'>>): MatrixCase[] {
  return cases.map((c) => ({...c, kind}))
}

function outputsOf(c: MatrixCase): readonly Output[] {
  return c.outputs ?? (c.fails ? outputs[c.kind] : outputs[c.kind].filter((output) => output !== 'append'))
}

const chunk2 = (request: RecordedRequest) => request.params.from_date === '2024-01-08'
const chunk3 = (request: RecordedRequest) => request.params.from_date === '2024-01-15'
const page = (n: number) => (request: RecordedRequest) => request.params.page === String(n)
const idle = {MPX_IDLE_TIMEOUT_MS: '1000'}
const unableToAuthenticate = {body: 'Unable to authenticate request', status: 400}

const eventCases = withKind('events', [
  {faults: [[{status: 429}, 3]], name: '3 × 429 without Retry-After'},
  {faults: [[{match: chunk2, retryAfter: 1, status: 429}, 1]], name: '429 with Retry-After: 1 (chunk 2)'},
  {faults: [[{match: chunk2, status: 500}, 2]], name: '2 × 500 (chunk 2)'},
  {faults: [[{status: 502}, 2]], name: '2 × 502 with an HTML body'},
  {faults: [[{match: chunk2, status: 503}, 2]], name: '2 × 503 (chunk 2)'},
  {faults: [[{match: chunk2, resetAfterRecords: 40}, 1]], name: 'connection closed after 40 records (chunk 2)'},
  {faults: [[{hard: true, match: chunk2, resetAfterRecords: 40}, 1]], name: 'TCP reset after 40 records (chunk 2)'},
  {faults: [[{resetAfterRecords: 0}, 1]], name: 'connection closed before the first record'},
  {faults: [[{match: chunk2, truncateGzipAfterRecords: 40}, 2]], name: '2 × gzip body cut short after 40 records'},
  {
    faults: [[{match: chunk2, terminatedEarlyAfterRecords: 40}, 1]],
    name: '`terminated early` after 40 and a half records (chunk 2)',
  },
  {
    faults: [[{message: 'export terminated early', terminatedEarlyAfterRecords: 100}, 1]],
    name: '`export terminated early` after 100 and a half records (chunk 1)',
  },
  {
    env: idle,
    faults: [[{match: chunk2, stallAfterRecords: 40, stallMs: 30_000}, 1]],
    name: 'slow drip: silent for longer than the idle timeout after 40 records',
  },
  {
    faults: [
      [{match: chunk2, status: 503}, 1],
      [{match: chunk2, resetAfterRecords: 20}, 1],
      [{match: chunk2, terminatedEarlyAfterRecords: 60}, 1],
      [{match: chunk2, truncateGzipAfterRecords: 70}, 1],
      [{match: chunk2, status: 429}, 1],
    ],
    name: '503, reset, terminated early, gzip cut short and 429 in a row (chunk 2)',
    outputs: outputs.events,
  },
  {
    duplicates: true,
    faults: [[{duplicateRecords: true}, Infinity]],
    name: 'every record sent twice',
    outputs: outputs.events,
    retried: false,
  },
  {
    faults: [[{contentEncoding: 'gzip', emptyBody: true, match: chunk3}, Infinity]],
    name: 'empty 200 body announcing gzip, for a range without events',
    retried: false,
  },
  {
    faults: [[{emptyBody: true, match: chunk3}, Infinity]],
    name: 'empty 200 body for a range without events',
    retried: false,
  },
  // Failures.
  {
    args: ['--retries', '2'],
    fails: {code: 5, reason: /still rate-limiting export 2024-01-01\.\.2024-01-07 after every retry/},
    faults: [[{status: 429}, Infinity]],
    name: '429 on every attempt',
  },
  {
    fails: {code: 1, reason: /kept failing for export 2024-01-08\.\.2024-01-14 \(HTTP 503/},
    faults: [[{match: chunk2, status: 503}, Infinity]],
    name: '503 on every attempt (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    fails: {code: 1, reason: /Network failure for export 2024-01-08\.\.2024-01-14 after every retry/},
    faults: [[{match: chunk2, resetAfterRecords: 40}, Infinity]],
    name: 'reset after 40 records on every attempt (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    fails: {code: 1, reason: /kept ending the export of 2024-01-08\.\.2024-01-14 early/},
    faults: [[{match: chunk2, terminatedEarlyAfterRecords: 40}, Infinity]],
    name: '`terminated early` on every attempt (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    fails: {code: 1, reason: /2024-01-08\.\.2024-01-14/},
    faults: [[{match: chunk2, truncateGzipAfterRecords: 40}, Infinity]],
    name: 'gzip body cut short on every attempt (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    args: ['--retries', '1'],
    env: idle,
    fails: {code: 1, reason: /Network failure for export 2024-01-08\.\.2024-01-14 after every retry \(timed out\)/},
    faults: [[{match: chunk2, stallAfterRecords: 40, stallMs: 30_000}, Infinity]],
    name: 'slow drip on every attempt (chunk 2)',
    printsFirst: chunk1Count,
  },
  {fails: {code: 2, reason: /rejected the credentials \(HTTP 401/}, faults: [[{status: 401}, 1]], name: '401'},
  {
    fails: {code: 2, reason: /rejected the credentials \(HTTP 403/},
    faults: [[{match: chunk2, status: 403}, 1]],
    name: '403 (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    fails: {code: 2, reason: /rejected the credentials \(HTTP 400: Unable to authenticate request/},
    faults: [[{...unableToAuthenticate, match: chunk2}, 1]],
    name: '400 Unable to authenticate request (chunk 2)',
    printsFirst: chunk1Count,
  },
  {
    env: {MP_SECRET: WRONG_SECRET},
    fails: {code: 2, reason: /rejected the credentials \(HTTP 401: Invalid username or secret/},
    name: 'a wrong secret',
  },
  {fails: {code: 1, reason: /402 Payment Required/}, faults: [[{status: 402}, 1]], name: '402 Payment Required'},
  {
    args: ['-w', 'BAD'],
    fails: {code: 3, reason: /rejected the where expression "BAD"/},
    name: '400 for a bad --where',
  },
])

const profileCases = withKind('profiles', [
  {faults: [[{match: page(3), status: 429}, 2]], name: '2 × 429 without Retry-After on page 3 of 8'},
  {faults: [[{match: page(3), retryAfter: 1, status: 429}, 1]], name: '429 with Retry-After: 1 on page 3'},
  {faults: [[{match: page(0), status: 500}, 1]], name: '500 on page 0'},
  {faults: [[{match: page(2), status: 502}, 2]], name: '2 × 502 on page 2'},
  {faults: [[{match: page(7), status: 503}, 1]], name: '503 on the last page'},
  {faults: [[{match: page(2), resetAfterRecords: 40}, 1]], name: 'connection closed after 40 profiles of page 2'},
  {faults: [[{match: page(2), truncateGzipAfterRecords: 40}, 1]], name: 'gzip body of page 2 cut short'},
  {
    faults: [[{match: page(2), terminatedEarlyAfterRecords: 40}, 1]],
    name: '`terminated early` after 40 and a half profiles of page 2',
  },
  {
    env: idle,
    faults: [[{match: page(6), stallAfterRecords: 40, stallMs: 30_000}, 1]],
    name: 'slow drip: page 6 silent for longer than the idle timeout',
  },
  {faults: [[{contentEncoding: 'gzip', emptyBody: true, match: page(4)}, 1]], name: 'empty 200 body for page 4'},
  {faults: [[{match: page(4), sessionExpired: true}, 1]], name: 'session expired at page 4'},
  {
    name: 'total and page_size on every page (the other runs get them on page 0 only)',
    retried: false,
    server: {totalOnFirstPageOnly: false},
  },
  // Failures.
  {
    args: ['--retries', '2'],
    fails: {code: 5, reason: /still rate-limiting engage page 3 after every retry/},
    faults: [[{match: page(3), status: 429}, Infinity]],
    name: '429 on every attempt of page 3',
    printsFirst: 300,
  },
  {
    fails: {code: 1, reason: /kept failing for engage page 3 \(HTTP 503/},
    faults: [[{match: page(3), status: 503}, Infinity]],
    name: '503 on every attempt of page 3',
    printsFirst: 300,
  },
  {
    fails: {code: 1, reason: /session kept expiring/},
    faults: [[{match: page(4), sessionExpired: true}, Infinity]],
    name: 'session expired at page 4 every time',
    printsFirst: 400,
  },
  {fails: {code: 2, reason: /HTTP 401/}, faults: [[{match: page(0), status: 401}, 1]], name: '401 on page 0'},
  {
    fails: {code: 2, reason: /HTTP 403/},
    faults: [[{match: page(3), status: 403}, 1]],
    name: '403 on page 3',
    printsFirst: 300,
  },
  {
    fails: {code: 2, reason: /HTTP 400: Unable to authenticate request/},
    faults: [[{...unableToAuthenticate, match: page(3)}, 1]],
    name: '400 Unable to authenticate request on page 3',
    printsFirst: 300,
  },
  {env: {MP_SECRET: WRONG_SECRET}, fails: {code: 2, reason: /HTTP 401/}, name: 'a wrong secret'},
  {
    args: ['-w', 'BAD'],
    fails: {code: 3, reason: /rejected the where expression "BAD"/},
    name: '400 for a bad --where',
  },
])

interface CellResult {
  /** The database after the command (exact for failures, comparable for successes). */
  after?: DatabaseSnapshot
  /** The database before the command, exactly. */
  before?: DatabaseSnapshot
  /** Where a secret showed up in the database file, if anywhere. */
  leakedInDatabase: boolean
  /** Faults left unused. */
  pending: number
  requests: number
  run: CliResult
}

describe('fault matrix: the real binary against a failing Mixpanel', function () {
  this.timeout(300_000)
  const run = pool(4)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let template: string
  let templateSnapshot: DatabaseSnapshot | undefined
  let cellCount = 0
  const baselines = new Map<string, CellResult>()
  const results = new Map<string, CellResult>()

  const environment = (url: string, extra: Readonly<Record<string, string>> = {}) => ({
    MP_PROJECT_ID: '4242',
    MP_SECRET: SECRET,
    MP_USERNAME: USERNAME,
    MPX_API_URL: url,
    MPX_CONFIG: join(directory.path, 'no-config.json'),
    MPX_RETRY_DELAY_MS: '1',
    TMPDIR: directory.path,
    XDG_CONFIG_HOME: join(directory.path, 'config'),
    XDG_DATA_HOME: join(directory.path, 'data'),
    ...extra,
  })

  async function runCell(c: MatrixCase, output: Output): Promise<CellResult> {
    const server = await startFakeMixpanel({
      auth: E2E_ACCOUNT,
      engagePageSize: 100,
      events,
      gzipChunkBytes: 16_000,
      profiles,
      ...c.server,
    })
    try {
      for (const [fault, times] of c.faults ?? []) server.fail(endpoint[c.kind], fault, times)
      const db = join(directory.path, `cell-${++cellCount}.duckdb`)
      const toDatabase = output === 'duckdb' || output === 'append'
      if (toDatabase) await copyFile(template, db)
      const before = toDatabase ? await snapshotDatabase(db) : undefined
      const result = await runMpx([...command[c.kind], ...(c.args ?? []), ...outputArgs(output, db), '--quiet'], {
        env: environment(server.url, c.env),
      })
      return {
        after: toDatabase ? await snapshotDatabase(db, c.fails !== undefined) : undefined,
        before,
        leakedInDatabase: toDatabase && secretIn(await databaseBytes(db)),
        pending: server.pendingFaults(),
        requests: server.requests.length,
        run: result,
      }
    } finally {
      await server.close()
    }
  }

  before(async () => {
    directory = await temporaryDirectory()
    // The database every DuckDB cell starts from: other events and profiles than the fetch's.
    template = join(directory.path, 'template.duckdb')
    const old = await startFakeMixpanel({
      auth: E2E_ACCOUNT,
      events: generateEvents({count: 40, from: '2024-01-01', seed: 63, to: '2024-01-03'}),
      profiles: generateProfiles({count: 30, seed: 64}),
    })
    try {
      for (const args of [command.events, command.profiles]) {
        const made = await runMpx([...args, '--db', template, '--quiet'], {env: environment(old.url)})
        expect(made.code, made.stderr).to.equal(0)
      }
    } finally {
      await old.close()
    }

    templateSnapshot = await snapshotDatabase(template)
    const cases = [...eventCases, ...profileCases]
    // Fault-free runs first (every cell compares with them), then the cells, a few at a time.
    await Promise.all(
      (['events', 'profiles'] as const).flatMap((kind) =>
        outputs[kind].map((output) =>
          run(async () => baselines.set(`${kind} ${output}`, await runCell({kind, name: 'fault-free'}, output))),
        ),
      ),
    )
    await Promise.all(
      cases.flatMap((c) =>
        outputsOf(c).map((output) =>
          run(async () => results.set(`${c.kind} ${c.name} ${output}`, await runCell(c, output))),
        ),
      ),
    )
  })

  after(async () => directory.remove())

  function secretIn(bytes: Buffer): boolean {
    try {
      expectNoSecret(bytes, 'database')
      return false
    } catch {
      return true
    }
  }

  for (const kind of ['events', 'profiles'] as const) {
    describe(`fault-free fetch:${kind}`, () => {
      for (const output of outputs[kind]) {
        it(`${outputTitle[output]}: succeeds with the ${kind} in order`, () => {
          const {after, run: result} = baselines.get(`${kind} ${output}`)!
          expect(result.code, result.stderr).to.equal(0)
          expect(result.stderr).to.equal('')
          if (output === 'stdout' || output === 'raw') {
            expect(linesOf(result.stdout)).to.have.length(kind === 'events' ? 300 : 730)
          } else {
            const table = after?.[kind] ?? []
            expect(table).to.have.length((kind === 'events' ? 300 : 730) + (output === 'append' ? 40 : 0))
            expect(after?._mpx_fetches).to.have.length(output === 'append' ? 3 : 2)
          }
        })
      }
    })
  }

  for (const c of [...eventCases, ...profileCases]) {
    describe(`fetch:${c.kind} with ${c.name}`, () => {
      for (const output of outputsOf(c)) {
        const title = c.fails
          ? `${outputTitle[output]}: exits ${c.fails.code} with one line on stderr, ${
              output === 'stdout' || output === 'raw' ? 'whole records printed once each' : 'the database untouched'
            }`
          : `${outputTitle[output]}: ${
              c.duplicates && (output === 'stdout' || output === 'raw')
                ? 'passes the duplicates through as sent'
                : 'the same as without the fault'
            }`
        it(title, () => {
          const cell = results.get(`${c.kind} ${c.name} ${output}`)!
          const baseline = baselines.get(`${c.kind} ${output}`)!
          const {run: result} = cell
          expectNoSecret(result.stdout, 'stdout')
          expectNoSecret(result.stderr, 'stderr')
          expect(cell.leakedInDatabase, 'a secret in the database file').to.equal(false)
          if (cell.before) expect(cell.before).to.deep.equal(templateSnapshot)
          if (c.fails) {
            expect(result.code, result.stderr).to.equal(c.fails.code)
            expectOneLineError(result.stderr, c.fails.reason)
            if (output === 'stdout' || output === 'raw') {
              expectCleanPrefix(result.stdout, baseline.run.stdout)
              expect(linesOf(result.stdout).length).to.be.at.least(c.printsFirst ?? 0)
            } else {
              expect(result.stdout).to.equal('')
              expect(cell.after, 'the database exactly as before').to.deep.equal(cell.before)
            }

            return
          }

          expect(result.code, result.stderr).to.equal(0)
          expect(result.stderr).to.equal('')
          if (output === 'stdout' || output === 'raw') {
            const expected = c.duplicates
              ? linesOf(baseline.run.stdout).flatMap((line) => [line, line])
              : linesOf(baseline.run.stdout)
            expect(linesOf(result.stdout)).to.deep.equal(expected)
            expect(result.stdout.endsWith('\n')).to.equal(true)
          } else {
            expect(result.stdout).to.equal('')
            expect(cell.after).to.deep.equal(baseline.after)
          }

          // The fault did strike: it was used up, and mpx asked again.
          if (c.faults?.every(([, times]) => Number.isFinite(times))) expect(cell.pending).to.equal(0)
          if (c.retried !== false) expect(cell.requests).to.be.greaterThan(baseline.requests)
        })
      }
    })
  }
})
