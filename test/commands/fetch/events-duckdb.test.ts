import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {apiSecretEnv, binRun, losslessJsonLines, runMpx} from '../../support/cli.js'
import {generateEvents} from '../../support/generate.js'
import {useCliWithFakeMixpanel} from '../../support/hooks.js'

const events = generateEvents({count: 400, from: '2024-01-01', seed: 21, to: '2024-01-10'})

/** The load directories (`mpx-load-<pid>-*`) of fetches in a temporary directory. */
async function loadDirectories(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.startsWith('mpx-load-'))
}

/**
 * Waits until a fetch's load file number `count` exists in `directory` (the earlier ones have been
 * loaded by then), or fails if the fetch ends first.
 */
async function loadFilesPassed(directory: string, count: number, ended: Promise<unknown>): Promise<void> {
  const state = {done: false}
  const early = ended.then(() => {
    if (!state.done) throw new Error('the fetch ended before it had loaded anything')
  })
  const reached = (async () => {
    while (!state.done) {
      for (const name of await loadDirectories(directory)) {
        const files = await readdir(join(directory, name)).catch(() => [])
        if (files.some((file) => Number.parseInt(file, 10) >= count)) return
      }

      await sleep(20)
    }
  })()
  try {
    await Promise.race([reached, early])
  } finally {
    state.done = true
  }
}

describe('fetch:events into DuckDB', () => {
  const cli = useCliWithFakeMixpanel(
    {auth: {apiSecret: 'duck-secret'}, events, gzipChunkBytes: 4000},
    (server, directory) =>
      apiSecretEnv(server.url, 'duck-secret', {TMPDIR: directory, XDG_DATA_HOME: join(directory, 'data')}),
  )
  let db: string

  beforeEach(() => {
    cli.server.setEvents(events)
    db = join(cli.directory, 'mpx.duckdb')
  })

  /** Starts a fetch with `args` whose load files go under `loads`; `closed` resolves with its exit code. */
  function startFetch(args: string[], loads: string): {child: ChildProcess; closed: Promise<null | number>} {
    const child = spawn(process.execPath, [binRun, ...args], {
      env: {...cli.env, PATH: process.env.PATH, TMPDIR: loads},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const closed = new Promise<null | number>((resolve) => {
      child.on('close', (code) => resolve(code))
    })
    return {child, closed}
  }

  const fetchArgs = (...more: string[]) => ['fetch:events', '2024-01-01', '2024-01-10', '--db', db, ...more]
  const sql = async (query: string, ...more: string[]) => cli.run(['sql', query, '--db', db, ...more])

  it('stores what --stdout streams, field for field, big integers included; mpx sql reads it back', async () => {
    const streamed = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout', '--quiet'])
    expect(streamed.code).to.equal(0)

    const stored = await cli.run(fetchArgs())
    expect(stored.code, stored.stderr).to.equal(0)
    expect(stored.stdout).to.equal('')
    expect(stored.stderr).to.match(new RegExp(`Fetched 400 events to events in ${db.replaceAll('.', String.raw`\.`)}`))

    const rows = await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')
    expect(rows.code, rows.stderr).to.equal(0)
    expect(losslessJsonLines(rows.stdout)).to.deep.equal(losslessJsonLines(streamed.stdout))
    const bigIntegers = (text: string) => (text.match(/"account_id":\d{19}/g) ?? []).sort()
    expect(bigIntegers(rows.stdout).length).to.be.greaterThan(10)
    expect(bigIntegers(rows.stdout)).to.deep.equal(bigIntegers(streamed.stdout))

    const fetches = await sql('SELECT table_name, kind, from_date, to_date, row_count FROM _mpx_fetches')
    expect(losslessJsonLines(fetches.stdout)).to.deep.equal([
      {from_date: '2024-01-01', kind: 'events', row_count: 400, table_name: 'events', to_date: '2024-01-10'},
    ])
  })

  it('refuses an existing table (exit 1); --replace swaps it, --append adds only new records', async () => {
    expect((await cli.run(fetchArgs('--quiet'))).code).to.equal(0)
    const again = await cli.run(fetchArgs())
    expect(again.code).to.equal(1)
    expect(again.stderr).to.include('Table "events" already exists')
    expect(again.stderr).to.include('--replace')

    // Mixpanel sends every record twice: still one row each.
    cli.server.fail('export', {duplicateRecords: true}, Number.POSITIVE_INFINITY)
    const replaced = await cli.run(fetchArgs('--replace'))
    expect(replaced.code, replaced.stderr).to.equal(0)
    expect((await sql('SELECT count(*) AS n FROM events')).stdout).to.equal('{"n":400}\n')

    const more = generateEvents({count: 100, from: '2024-01-11', seed: 22, to: '2024-01-12'})
    cli.server.setEvents([...events.lines(), ...more.lines()])
    const appended = await cli.run(['fetch:events', '2024-01-01', '2024-01-12', '--db', db, '--append'])
    expect(appended.code, appended.stderr).to.equal(0)
    expect(appended.stderr).to.match(/Fetched 100 events/)
    expect((await sql('SELECT count(*) AS n FROM events')).stdout).to.equal('{"n":500}\n')

    const everything = await cli.run(fetchArgs('--no-dedupe', '--replace'))
    expect(everything.code, everything.stderr).to.equal(0)
    expect((await sql('SELECT count(*) AS n FROM events')).stdout).to.equal('{"n":800}\n')
  })

  it('refuses a table name that is not an identifier with exit 3, before any request or change', async () => {
    expect((await cli.run(fetchArgs('--quiet'))).code).to.equal(0)
    cli.server.reset()
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', 'x; DROP TABLE events', '--db', db])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('Table name "x; DROP TABLE events" is not allowed')
    expect(cli.server.requests).to.have.length(0)
    expect((await sql('SELECT count(*) AS n FROM events')).stdout).to.equal('{"n":400}\n')
  })

  it('refuses --raw into a database with exit 3, pointing to --stdout', async () => {
    const result = await cli.run(fetchArgs('--raw'))
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('--stdout')
    expect(existsSync(db)).to.equal(false)
  })

  it('leaves the previous table intact and readable when a fetch is killed mid-way', async () => {
    expect((await cli.run(fetchArgs('--quiet'))).code).to.equal(0)
    const before = await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')

    // A bigger export that stalls after 2000 records: by then several loads have gone into the
    // uncommitted replacement table (the files are tiny), and the old table was dropped in the
    // same transaction.
    cli.server.setEvents(generateEvents({count: 3000, from: '2024-01-01', seed: 23, to: '2024-01-10'}))
    cli.server.fail('export', {stallAfterRecords: 2000, stallMs: 60_000})
    const loads = join(cli.directory, 'loads')
    await mkdir(loads)
    const {child, closed} = startFetch(fetchArgs('--replace', '--sink-option', 'file_bytes=50000'), loads)
    await loadFilesPassed(loads, 4, closed)
    child.kill('SIGKILL')
    expect(await closed).to.equal(null)

    const after = await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')
    expect(after.code, after.stderr).to.equal(0)
    expect(after.stdout).to.equal(before.stdout)
    expect((await sql('SELECT count(*) AS n FROM _mpx_fetches')).stdout).to.equal('{"n":1}\n')
    const tables = await cli.run(['tables', '--db', db, '--json'])
    expect(JSON.parse(tables.stdout)).to.have.length(1)

    // The killed fetch's load files are left behind, until the next fetch removes them.
    expect(await loadDirectories(loads)).to.have.length(1)
    expect((await loadDirectories(loads))[0]).to.match(new RegExp(`^mpx-load-${child.pid}-`))

    // And the database takes the next fetch.
    cli.server.reset()
    const retried = await cli.run(fetchArgs('--replace', '--quiet'), {TMPDIR: loads})
    expect(retried.code, retried.stderr).to.equal(0)
    expect((await sql('SELECT count(*) AS n FROM events')).stdout).to.equal('{"n":3000}\n')
    expect(await loadDirectories(loads)).to.deep.equal([])
  })

  it('stops on Ctrl-C with status 130, leaving the table, the database and the temporary directory as they were', async () => {
    expect((await cli.run(fetchArgs('--quiet'))).code).to.equal(0)
    const before = await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')
    cli.server.setEvents(generateEvents({count: 3000, from: '2024-01-01', seed: 24, to: '2024-01-10'}))
    const loads = join(cli.directory, 'loads')
    await mkdir(loads)
    const interrupt = async (args: string[]) => {
      cli.server.fail('export', {stallAfterRecords: 2000, stallMs: 60_000})
      const {child, closed} = startFetch([...args, '--sink-option', 'file_bytes=50000'], loads)
      await loadFilesPassed(loads, 3, closed)
      child.kill('SIGINT')
      return closed
    }

    expect(await interrupt(fetchArgs('--append'))).to.equal(130)
    expect((await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')).stdout).to.equal(before.stdout)
    expect(await loadDirectories(loads)).to.deep.equal([])

    // A database the interrupted fetch created is not left behind.
    const fresh = join(cli.directory, 'fresh.duckdb')
    expect(await interrupt(['fetch:events', '2024-01-01', '2024-01-10', '--db', fresh])).to.equal(130)
    expect(existsSync(fresh)).to.equal(false)
    expect(await loadDirectories(loads)).to.deep.equal([])
  })

  it('puts the database at $MPX_DB, else at <data dir>/<project id>.duckdb, and the other commands find it', async () => {
    const viaEnv = join(cli.directory, 'env', 'from-env.duckdb')
    const fromEnv = await cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--quiet'], {MPX_DB: viaEnv})
    expect(fromEnv.code, fromEnv.stderr).to.equal(0)
    expect(existsSync(viaEnv)).to.equal(true)
    const listed = await cli.run(['tables', '--json'], {MPX_DB: viaEnv})
    expect((JSON.parse(listed.stdout) as Array<{name: string}>).map((table) => table.name)).to.deep.equal(['events'])

    const projectEnv = {...cli.env, MP_PROJECT_ID: '4242'}
    const fromDataDir = await runMpx(['fetch:events', '2024-01-01', '2024-01-02', '--quiet', 'jan'], {env: projectEnv})
    expect(fromDataDir.code, fromDataDir.stderr).to.equal(0)
    const expected = join(cli.directory, 'data', 'mpx', '4242.duckdb')
    expect(existsSync(expected)).to.equal(true)

    // Finding the database needs the project id, not credentials.
    const withoutCredentials = {...cli.env, MP_API_SECRET: undefined}
    const counted = await runMpx(['sql', 'SELECT count(*) AS n FROM jan', '--project-id', '4242'], {
      env: withoutCredentials,
    })
    expect(counted.code, counted.stderr).to.equal(0)
    expect(counted.stdout).to.match(/^\{"n":\d+\}\n$/)
    const lost = await runMpx(['tables'], {env: withoutCredentials})
    expect(lost.code).to.equal(3)
    expect(lost.stderr).to.include('--db')
  })
})
