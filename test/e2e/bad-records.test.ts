/**
 * Records that are JSON but not usable events or profiles, among thousands of good ones, through
 * every output of the real binary: the good ones are all stored, the bad ones all quarantined byte
 * for byte with their reason, the fetch exits 6 and says where; `--bad-records fail` and N.
 */

import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {normalizeProfileLine} from 'mpx-mixpanel-core/internal/records/profiles.js'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {runMpx} from '../support/cli.js'
import {queryLines} from '../support/duckdb.js'
import {E2E_ACCOUNT, e2eEnv, expectOneLineError, linesOf} from '../support/e2e.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

/** Every kind of bad line the issue lists, and a few more times that cannot be stored. */
const BAD_EVENT_LINES = [
  'null',
  '[1,2]',
  '{"foo":1}',
  '{"event":"X"}',
  '{"event":"Y","properties":null}',
  '{"event":"Millis","properties":{"time":1704153600000,"distinct_id":"u1","$insert_id":"ms-1"}}',
  '{"event":"Far","properties":{"time":1e30,"distinct_id":"u2"}}',
  '{"event":"NotANumber","properties":{"time":"NaN","distinct_id":"u3"}}',
  '{"event":"Empty","properties":{"time":"","distinct_id":"u4"}}',
  '{"event":"Unicode ü €","properties":{"time":-1e20,"distinct_id":"ü"}}',
]

/** Good lines with the bad ones spread among them (every `every` lines). */
function mix(good: readonly string[], bad: readonly string[], every: number): string[] {
  const lines: string[] = []
  let next = 0
  for (const [i, line] of good.entries()) {
    lines.push(line)
    if (i % every === every - 1 && next < bad.length) lines.push(bad[next++])
  }

  return [...lines, ...bad.slice(next)]
}

/** The record of each `Rejected ...` line of stderr: everything from `): "` on is its JSON string. */
function stderrRejects(stderr: string): string[] {
  return linesOf(stderr)
    .filter((line) => line.startsWith('Rejected '))
    .map((line) => JSON.parse(line.slice(line.indexOf('): "') + 3)) as string)
}

describe('bad records are quarantined, not fatal (real binary)', function () {
  this.timeout(120_000)
  const generated = generateEvents({count: 3000, from: '2024-01-01', seed: 18, to: '2024-01-03'})
  const good = [...generated.lines()]
  const lines = mix(good, BAD_EVENT_LINES, 290)
  const expectedStdout = good.map((line) => `${normalizeEventLine(line)}\n`).join('')
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let env: Record<string, string>
  const range = ['2024-01-01', '2024-01-03']

  before(async () => {
    server = await startFakeMixpanel({auth: E2E_ACCOUNT, events: lines})
    directory = await temporaryDirectory()
    env = e2eEnv(server.url, directory.path)
  })

  after(async () => {
    await server.close()
    await directory.remove()
  })

  it('--stdout: every good record on stdout, each bad one on stderr with its reason, exit 6', async () => {
    const result = await runMpx(['fetch:events', ...range, '--stdout'], {env})
    expect(result.code, result.stderr).to.equal(6)
    expect(result.stdout).to.equal(expectedStdout)
    expect(stderrRejects(result.stderr)).to.deep.equal(BAD_EVENT_LINES)
    expect(result.stderr).to.include('Rejected event of 2024-01-01..2024-01-03 (properties is not an object): ')
    expect(result.stderr).to.match(/looks like milliseconds, not seconds\): "\{\\"event\\":\\"Millis/)
    expect(result.stderr).to.match(/Warning: 10 events could not be stored and were quarantined: see stderr\n/)
    expect(result.stderr).to.match(/Fetched 3,000 events to stdout in [\d.]+s \(10 quarantined: see stderr\)\n/)
  })

  it('--quiet still says what was quarantined (and exits 6)', async () => {
    const result = await runMpx(['fetch:events', ...range, '--stdout', '--quiet'], {env})
    expect(result.code).to.equal(6)
    expect(stderrRejects(result.stderr)).to.have.length(BAD_EVENT_LINES.length)
    expect(linesOf(result.stderr).filter((line) => !line.startsWith('Rejected '))).to.deep.equal([
      'Warning: 10 events could not be stored and were quarantined: see stderr',
    ])
  })

  it('--raw passes every line through unchanged, bad ones too (exit 0)', async () => {
    const result = await runMpx(['fetch:events', ...range, '--stdout', '--raw', '--quiet'], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(lines.map((line) => `${line}\n`).join(''))
    expect(result.stderr).to.equal('')
  })

  it('DuckDB: the good records in the table, the bad ones in _mpx_rejects, counted by mpx tables', async () => {
    const db = join(directory.path, 'quarantine.duckdb')
    const result = await runMpx(['fetch:events', ...range, '--db', db, '--no-dedupe'], {env})
    expect(result.code, result.stderr).to.equal(6)
    expect(result.stderr).to.include(
      `Warning: 10 events could not be stored and were quarantined: see _mpx_rejects in ${db}`,
    )
    expect(result.stderr).to.not.match(/mpx-load|\.jsonl/)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM events')).to.deep.equal(['{"n":3000}'])
    const stored = await queryLines(
      db,
      'SELECT line, reason, table_name, from_date, to_date FROM _mpx_rejects ORDER BY rowid',
    )
    const rejects = stored.map((row) => JSON.parse(row) as Record<string, string>)
    expect(rejects.map((reject) => reject.line)).to.deep.equal(BAD_EVENT_LINES)
    expect(rejects[5].reason).to.equal('properties.time 1704153600000 looks like milliseconds, not seconds')
    expect(rejects.every((reject) => reject.table_name === 'events' && reject.from_date === '2024-01-01')).to.equal(
      true,
    )
    // The reject's fetch is the fetch _mpx_fetches records.
    expect(
      await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects JOIN _mpx_fetches ON fetch_started_at = started_at'),
    ).to.deep.equal(['{"n":10}'])

    const tables = await runMpx(['tables', '--db', db, '--json'], {env})
    const [summary, ...others] = JSON.parse(tables.stdout) as Array<Record<string, unknown>>
    expect(others).to.deep.equal([])
    expect(summary).to.include({name: 'events', rejected: 10, rejectedIn: '_mpx_rejects', rows: 3000})
    const text = await runMpx(['tables', '--db', db], {env})
    expect(text.stdout).to.match(/REJECTED/)
    expect(text.stdout).to.match(/^events .* 10\n/m)
    expect(text.stdout).to.not.match(/^_mpx_rejects/m)

    // Appending keeps the earlier rejects; replacing starts again.
    const again = await runMpx(['fetch:events', ...range, '--db', db, '--append', '--quiet'], {env})
    expect(again.code, again.stderr).to.equal(6)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects')).to.deep.equal(['{"n":20}'])
    const replaced = await runMpx(['fetch:events', ...range, '--db', db, '--replace', '--quiet'], {env})
    expect(replaced.code, replaced.stderr).to.equal(6)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects')).to.deep.equal(['{"n":10}'])
    const dropped = await runMpx(['tables:drop', 'events', '--db', db], {env})
    expect(dropped.code, dropped.stderr).to.equal(0)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects')).to.deep.equal(['{"n":0}'])
  })

  it('JSONL file: the good records in the file, the bad ones in <file>.rejects.jsonl', async () => {
    const output = join(directory.path, 'events.jsonl')
    const result = await runMpx(['fetch:events', ...range, '--output', output], {env})
    expect(result.code, result.stderr).to.equal(6)
    expect(await readFile(output, 'utf8')).to.equal(expectedStdout)
    const rejects = linesOf(await readFile(`${output}.rejects.jsonl`, 'utf8')).map(
      (line) => JSON.parse(line) as {line: string; reason: string},
    )
    expect(rejects.map((reject) => reject.line)).to.deep.equal(BAD_EVENT_LINES)
    expect(rejects[0].reason).to.equal('not an object but null')
    expect(result.stderr).to.include(`see ${output}.rejects.jsonl`)
  })

  /** A fetch into `db` with `--bad-records badRecords` fails: exit 1, one line matching `reason`, no database. */
  async function expectFetchRefused(db: string, badRecords: string, reason: RegExp): Promise<void> {
    const result = await runMpx(['fetch:events', ...range, '--db', db, '--bad-records', badRecords], {env})
    expect(result.code).to.equal(1)
    expectOneLineError(result.stderr, reason)
    expect(existsSync(db)).to.equal(false)
  }

  it('--bad-records fail: exit 1 at the first, naming its days and reason, nothing stored', async () => {
    await expectFetchRefused(
      join(directory.path, 'strict.duckdb'),
      'fail',
      /an event of 2024-01-01\.\.2024-01-03 that mpx cannot store \(not an object but null\): null$/m,
    )
  })

  it('--bad-records N: fails past N bad records, quarantines up to N', async () => {
    const db = join(directory.path, 'limited.duckdb')
    await expectFetchRefused(
      db,
      '3',
      /More than 3 bad events in this fetch; the last of 2024-01-01\.\.2024-01-03: no properties/,
    )
    const within = await runMpx(['fetch:events', ...range, '--db', db, '--bad-records', '10', '--quiet'], {env})
    expect(within.code, within.stderr).to.equal(6)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects')).to.deep.equal(['{"n":10}'])
  })

  it('a bad --bad-records value is a usage error', async () => {
    const result = await runMpx(['fetch:events', ...range, '--stdout', '--bad-records', 'some'], {env})
    expect(result.code).to.equal(3)
    expectOneLineError(result.stderr, /--bad-records.*quarantine, fail or a number/)
  })

  it('profiles that are not usable objects are quarantined too', async () => {
    const profiles = generateProfiles({count: 500, seed: 18})
    const goodProfiles = [...profiles.lines()]
    const badProfiles = ['null', '[1]', '{"$properties":{"a":1}}', '{"$distinct_id":"p1","$properties":[1]}']
    await server.close()
    server = await startFakeMixpanel({auth: E2E_ACCOUNT, profiles: mix(goodProfiles, badProfiles, 100)})
    const result = await runMpx(['fetch:profiles', '--stdout'], {env: e2eEnv(server.url, directory.path)})
    expect(result.code, result.stderr).to.equal(6)
    expect(result.stdout).to.equal(goodProfiles.map((line) => `${normalizeProfileLine(line)}\n`).join(''))
    expect(stderrRejects(result.stderr)).to.deep.equal(badProfiles)
    // A profile sync takes the same policy: quarantined (exit 6), or refused with the table untouched.
    const db = join(directory.path, 'profiles.duckdb')
    const synced = await runMpx(['sync:profiles', '--db', db, '--quiet'], {env: e2eEnv(server.url, directory.path)})
    expect(synced.code, synced.stderr).to.equal(6)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM _mpx_rejects')).to.deep.equal([
      `{"n":${badProfiles.length}}`,
    ])
    const strict = await runMpx(['sync:profiles', '--db', db, '--bad-records', 'fail', '--quiet'], {
      env: e2eEnv(server.url, directory.path),
    })
    expect(strict.code).to.equal(1)
    expectOneLineError(strict.stderr, /Mixpanel sent a profile that mpx cannot store \(not an object\): null$/m)
    expect(await queryLines(db, 'SELECT count(*) AS n FROM profiles')).to.deep.equal([`{"n":${goodProfiles.length}}`])
  })
})
