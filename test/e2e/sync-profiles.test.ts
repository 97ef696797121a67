/** mpx sync:profiles end to end (the real binary against the fake Mixpanel). */

import {expect} from 'chai'
import {join} from 'node:path'

import {runMpx} from '../support/cli.js'
import {queryLines} from '../support/duckdb.js'
import {E2E_ACCOUNT, e2eEnv, expectOneLineError} from '../support/e2e.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {temporaryDirectory} from '../support/temporary.js'

const profile = (id: string, plan: string) =>
  JSON.stringify({$distinct_id: id, $properties: {$last_seen: '2024-01-15T14:20:00', plan}})

describe('mpx sync:profiles (real binary)', function () {
  this.timeout(60_000)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let fake: FakeMixpanel

  before(async () => {
    directory = await temporaryDirectory()
  })

  afterEach(async () => fake?.close())

  after(async () => directory.remove())

  const run = async (...args: string[]) => runMpx(args, {env: e2eEnv(fake.url, directory.path)})
  const rows = async (db: string) =>
    queryLines(db, `SELECT distinct_id, properties->>'plan' AS plan FROM profiles ORDER BY distinct_id`)

  it('a full refresh replaces the table; --changed-only upserts what was seen since, blind to deletions', async () => {
    fake = await startFakeMixpanel({
      auth: E2E_ACCOUNT,
      profiles: [profile('u1', 'free'), profile('u2', 'free'), profile('u3', 'free')],
    })
    const db = join(directory.path, 'profiles.duckdb')
    const changedFirst = await run('sync:profiles', '--db', db, '--changed-only')
    expect(changedFirst.code).to.equal(3)
    expectOneLineError(changedFirst.stderr, /no complete sync:profiles yet: run one without --changed-only first/)

    const full = await run('sync:profiles', '--db', db)
    expect(full.code, full.stderr).to.equal(0)
    expect(full.stderr).to.include('Sync of profiles: every profile')
    expect(await rows(db)).to.have.length(3)

    fake.setProfiles([profile('u1', 'pro'), profile('u2', 'free'), profile('u4', 'free')])
    const before = fake.requests.length
    const changed = await run('sync:profiles', '--db', db, '--changed-only', '--quiet')
    expect(changed.code, changed.stderr).to.equal(0)
    const asked = fake.requests.slice(before).map((request) => request.params.where)
    expect(asked[0]).to.match(/^properties\["\$last_seen"\] >= "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"$/)
    expect(await rows(db)).to.deep.equal([
      '{"distinct_id":"u1","plan":"pro"}',
      '{"distinct_id":"u2","plan":"free"}',
      '{"distinct_id":"u3","plan":"free"}',
      '{"distinct_id":"u4","plan":"free"}',
    ])

    expect((await run('sync:profiles', '--db', db, '--quiet')).code).to.equal(0)
    expect(await rows(db)).to.deep.equal([
      '{"distinct_id":"u1","plan":"pro"}',
      '{"distinct_id":"u2","plan":"free"}',
      '{"distinct_id":"u4","plan":"free"}',
    ])
    const listed = await run('tables', '--db', db, '--json')
    const [table] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
    expect(table).to.include({kind: 'profiles', name: 'profiles', rows: 3})
    expect(table.lastSync).to.match(/^\d{4}-\d\d-\d\dT/)
  })

  it('fetch:profiles warns when its pages exceed the Query API limit of 60 an hour', async () => {
    const many = Array.from({length: 61}, (_, i) => profile(`u${i}`, 'free'))
    fake = await startFakeMixpanel({auth: E2E_ACCOUNT, engagePageSize: 1, profiles: many})
    const result = await run('fetch:profiles', '--stdout')
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout.trimEnd().split('\n')).to.have.length(61)
    expect(result.stderr).to.include(
      "Warning: this fetch makes 61 engage requests (one per page), more than the 60 an hour Mixpanel's Query API allows",
    )
  })

  it('refuses a table of events (exit 3) and the JSONL sink, which keeps no table', async () => {
    fake = await startFakeMixpanel({auth: E2E_ACCOUNT, profiles: [profile('u1', 'free')]})
    const db = join(directory.path, 'mixed.duckdb')
    const made = await run('sql', 'CREATE TABLE profiles AS SELECT 1 AS x', '--db', db, '--write')
    expect(made.code, made.stderr).to.equal(0)
    const refused = await run('sync:profiles', '--db', db)
    expect(refused.code).to.equal(3)
    expectOneLineError(refused.stderr, /Table "profiles" holds rows mpx did not fetch, not profiles/)
    const jsonl = await run('sync:profiles', '--sink', 'jsonl')
    expect(jsonl.code).to.equal(3)
    expectOneLineError(
      jsonl.stderr,
      /Sink "jsonl" keeps no table, so there is nothing to keep current: use --sink duckdb/,
    )
  })
})
