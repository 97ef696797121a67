/**
 * Interrupted DuckDB fetches: Ctrl-C (SIGINT) and SIGKILL at several points, then what a user
 * finds: a database that opens, holding either the old table or the new complete one, and a next
 * fetch that works, adding nothing twice. (test/commands/fetch/events-duckdb.test.ts kills a
 * --replace in the middle of a load; these cover the other moments and modes.)
 */

import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {copyFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {binRun, runMpx} from '../support/cli.js'
import {
  type DatabaseSnapshot,
  E2E_ACCOUNT,
  e2eEnv,
  expectNoSecret,
  expectOneLineError,
  pool,
  snapshotDatabase,
} from '../support/e2e.js'
import {type FakeMixpanel, type FakeMixpanelOptions, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

/** 2000 events over ten days (about 450 kB gzipped): throttled to 400 kB/s, a fetch takes over a second. */
const events = generateEvents({count: 2000, from: '2024-01-01', seed: 71, to: '2024-01-10'})
const oldEvents = generateEvents({count: 50, from: '2024-01-01', seed: 72, to: '2024-01-02'})
const slow: Partial<FakeMixpanelOptions> = {bytesPerSecond: 400_000}

interface Spawned {
  readonly child: ChildProcess
  readonly closed: Promise<{code: null | number; signal: NodeJS.Signals | null; stderr: string}>
}

describe('interrupted DuckDB fetches (real binary)', function () {
  this.timeout(120_000)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let count = 0
  /** The database before each fetch: an old `events` table (other events than the fetch's). */
  let template: string
  let oldTable: DatabaseSnapshot | undefined
  /** The table a complete fetch of 2024-01-01..2024-01-10 makes, for comparing. */
  let newTable: DatabaseSnapshot | undefined

  const environment = (server: FakeMixpanel) => e2eEnv(server.url, directory.path)

  const startServer = (options: Partial<FakeMixpanelOptions> = {}) =>
    startFakeMixpanel({auth: E2E_ACCOUNT, events, ...options})

  const fetchArgs = (db: string, ...more: string[]) => [
    'fetch:events',
    '2024-01-01',
    '2024-01-10',
    '--db',
    db,
    '--quiet',
    // Small load files: loads into the uncommitted table go on all along the download.
    '--sink-option',
    'file_bytes=50000',
    ...more,
  ]

  function start(server: FakeMixpanel, args: string[]): Spawned {
    const child = spawn(process.execPath, [binRun, ...args], {
      env: {HOME: process.env.HOME, PATH: process.env.PATH, ...environment(server)},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const closed = new Promise<{code: null | number; signal: NodeJS.Signals | null; stderr: string}>((resolve) => {
      child.on('close', (code, signal) => resolve({code, signal, stderr}))
    })
    return {child, closed}
  }

  /** A copy of the template database. */
  async function database(): Promise<string> {
    const db = join(directory.path, `interrupted-${++count}.duckdb`)
    await copyFile(template, db)
    return db
  }

  /** Only the events table, comparable across fetches. */
  async function eventsTable(db: string): Promise<string[] | undefined> {
    return (await snapshotDatabase(db, false))?.events
  }

  before(async () => {
    directory = await temporaryDirectory()
    template = join(directory.path, 'template.duckdb')
    const old = await startServer({events: oldEvents})
    const fresh = await startServer()
    try {
      const made = await runMpx(fetchArgs(template), {env: environment(old)})
      expect(made.code, made.stderr).to.equal(0)
      oldTable = await snapshotDatabase(template)
      const complete = join(directory.path, 'complete.duckdb')
      await copyFile(template, complete)
      const replaced = await runMpx(fetchArgs(complete, '--replace'), {env: environment(fresh)})
      expect(replaced.code, replaced.stderr).to.equal(0)
      newTable = await snapshotDatabase(complete, false)
      expect(newTable?.events).to.have.length(2000)
    } finally {
      await Promise.all([old.close(), fresh.close()])
    }
  })

  after(async () => directory.remove())

  it('SIGKILL or SIGINT at any of several points of a --replace: the old table or the new complete one, never a mix', async () => {
    const points = [100, 450, 800, 1200, 3000]
    const run = pool(7)
    const outcomes = await Promise.all(
      (['SIGKILL', 'SIGINT'] as const).flatMap((signal) =>
        points.map((delay) =>
          run(async () => {
            const server = await startServer(slow)
            try {
              const db = await database()
              const fetch = start(server, fetchArgs(db, '--replace'))
              await sleep(delay)
              fetch.child.kill(signal)
              const {code, signal: killedBy, stderr} = await fetch.closed
              const table = await eventsTable(db)
              // mpx itself opens what a killed process left.
              const counted =
                signal === 'SIGKILL'
                  ? await runMpx(['sql', 'SELECT count(*) AS n FROM events', '--db', db], {env: environment(server)})
                  : undefined
              return {code, counted, db, delay, killedBy, signal, stderr, table}
            } finally {
              await server.close()
            }
          }),
        ),
      ),
    )
    for (const outcome of outcomes) {
      const what = `${outcome.signal} after ${outcome.delay} ms`
      const isOld = JSON.stringify(outcome.table) === JSON.stringify(oldTable?.events)
      const isNew = JSON.stringify(outcome.table) === JSON.stringify(newTable?.events)
      expect(isOld || isNew, `${what}: the old table or the new one`).to.equal(true)
      if (outcome.counted) {
        expect(outcome.counted.code, `${what}: ${outcome.counted.stderr}`).to.equal(0)
        expect(outcome.counted.stdout).to.equal(`{"n":${isOld ? 50 : 2000}}\n`)
      }

      // Ctrl-C before mpx has started listening for it (the first point) ends Node at once.
      if (outcome.signal === 'SIGINT' && isOld && outcome.killedBy !== 'SIGINT') {
        expect(outcome.code, what).to.equal(130)
        expectOneLineError(outcome.stderr, /^Error: Interrupted\n$/)
      }

      if (outcome.signal === 'SIGKILL' && isOld) expect(outcome.killedBy, what).to.equal('SIGKILL')
      expectNoSecret(outcome.stderr, what)
    }

    // The throttled download takes longer than the first points: those fetches were cut short.
    for (const outcome of outcomes.filter(({delay}) => delay <= 800)) {
      expect(outcome.table, `${outcome.signal} after ${outcome.delay} ms`).to.deep.equal(oldTable?.events)
    }
  })

  it('SIGINT while mpx waits out a long Retry-After: exits 130 at once, the database as before', async function () {
    // Far below the 60 s Retry-After: waiting it out would fail the test.
    this.timeout(30_000)
    const server = await startServer()
    try {
      server.fail('export', {
        match: (request) => request.params.from_date === '2024-01-08',
        retryAfter: 60,
        status: 429,
      })
      const db = await database()
      const before = await snapshotDatabase(db)
      const fetch = start(server, fetchArgs(db, '--replace'))
      // The 429 for chunk 2 has been answered: mpx is waiting.
      while (server.pendingFaults() > 0) await sleep(20)
      await sleep(200)
      fetch.child.kill('SIGINT')
      const {code, stderr} = await fetch.closed
      expect(code).to.equal(130)
      expectOneLineError(stderr, /^Error: Interrupted\n$/)
      expect(await snapshotDatabase(db)).to.deep.equal(before)
    } finally {
      await server.close()
    }
  })

  it('a fetch killed before its first commit into a new database leaves no table: a plain fetch then creates it', async () => {
    const server = await startServer(slow)
    try {
      const db = join(directory.path, `new-${++count}.duckdb`)
      const fetch = start(server, fetchArgs(db))
      while (server.requests.length < 2) await sleep(20)
      fetch.child.kill('SIGKILL')
      await fetch.closed
      if (existsSync(db)) expect(await eventsTable(db)).to.equal(undefined)
      const tables = await runMpx(['tables', '--db', db, '--json'], {env: environment(server)})
      if (tables.code === 0) expect(JSON.parse(tables.stdout)).to.deep.equal([])
      else expectOneLineError(tables.stderr, /No database at/)

      server.reset()
      const again = await runMpx(fetchArgs(db), {env: {...environment(server)}})
      expect(again.code, again.stderr).to.equal(0)
      expect(await eventsTable(db)).to.deep.equal(newTable?.events)
    } finally {
      await server.close()
    }
  })

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`--append of the same range after a ${signal}ed --append: every event once`, async () => {
      // The table holds the first five days; the append brings the ten, throttled, and is cut short.
      const server = await startServer(slow)
      try {
        const db = join(directory.path, `append-${++count}.duckdb`)
        server.setEvents(events)
        const firstDays = await runMpx(
          ['fetch:events', '2024-01-01', '2024-01-05', '--db', db, '--quiet', '--sink-option', 'file_bytes=50000'],
          {env: environment(server)},
        )
        expect(firstDays.code, firstDays.stderr).to.equal(0)
        const before = await snapshotDatabase(db)
        const stored = before?.events.length ?? 0
        expect(stored).to.be.within(1, 1999)

        server.reset()
        const fetch = start(server, fetchArgs(db, '--append'))
        // Some way into the download (which takes more than a second), loads have begun.
        while (server.requests.length === 0) await sleep(20)
        await sleep(300)
        fetch.child.kill(signal)
        const interrupted = await fetch.closed
        expect(interrupted.code).to.equal(signal === 'SIGINT' ? 130 : null)
        expect(await snapshotDatabase(db)).to.deep.equal(before)

        const again = await runMpx(fetchArgs(db, '--append'), {env: environment(server)})
        expect(again.code, again.stderr).to.equal(0)
        const counts = await runMpx(
          [
            'sql',
            'SELECT count(*) AS n, count(DISTINCT (event_name, distinct_id, insert_id)) AS distinct_events FROM events',
            '--db',
            db,
          ],
          {env: environment(server)},
        )
        expect(counts.stdout).to.equal('{"n":2000,"distinct_events":2000}\n')
        // The same rows as one complete fetch, the first five days' rows where they were.
        const rows = await eventsTable(db)
        expect(rows?.slice(0, stored)).to.deep.equal(before?.events)
        expect([...(rows ?? [])].sort()).to.deep.equal([...(newTable?.events ?? [])].sort())
      } finally {
        await server.close()
      }
    })
  }

  for (const [signal, exitCode] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal} during a --replace ends it like Ctrl-C: exit ${exitCode}, one line, the database as before, no load files left`, async () => {
      const server = await startServer(slow)
      try {
        const db = await database()
        const before = await snapshotDatabase(db)
        const fetch = start(server, fetchArgs(db, '--replace'))
        // Loads have begun: a load directory exists in TMPDIR.
        while ((await loadDirectories()).length === 0) await sleep(20)
        fetch.child.kill(signal)
        const {code, signal: killedBy, stderr} = await fetch.closed
        expect(killedBy, stderr).to.equal(null)
        expect(code, stderr).to.equal(exitCode)
        expectOneLineError(stderr, new RegExp(`^Error: Interrupted by ${signal}.*\n$`))
        expect(await snapshotDatabase(db)).to.deep.equal(before)
        expect(await loadDirectories()).to.deep.equal([])
      } finally {
        await server.close()
      }
    })
  }

  /** mpx's load directories in the fetches' TMPDIR. */
  async function loadDirectories(): Promise<string[]> {
    return (await readdir(directory.path)).filter((name) => name.startsWith('mpx-load-'))
  }
})
