import {expect} from 'chai'
import {join} from 'node:path'

import {parseLossless} from '../../../src/records/json.js'
import {normalizeProfileLine} from '../../../src/records/profiles.js'
import {runMpx} from '../../support/cli.js'
import {temporaryDirectory} from '../../support/duckdb.js'
import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateProfiles} from '../../support/generate.js'

const profiles = generateProfiles({count: 320, seed: 14})
const byId = (a: {distinct_id: string}, b: {distinct_id: string}) => a.distinct_id.localeCompare(b.distinct_id)
const parsedLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => parseLossless(line) as {distinct_id: string; last_seen: null | string; properties: object})

describe('fetch:profiles into DuckDB', () => {
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let db: string
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({auth: {apiSecret: 'duck-secret'}, engagePageSize: 100, profiles})
  })

  after(async () => server.close())

  beforeEach(async () => {
    server.reset()
    server.setProfiles(profiles)
    directory = await temporaryDirectory()
    db = join(directory.path, 'mpx.duckdb')
    env = {
      MP_API_SECRET: 'duck-secret',
      MPX_API_URL: server.url,
      MPX_CONFIG: join(directory.path, 'no-config.json'),
      MPX_RETRY_DELAY_MS: '1',
      TMPDIR: directory.path,
      XDG_DATA_HOME: join(directory.path, 'data'),
    }
  })

  afterEach(async () => directory.remove())

  const sql = async (query: string) => runMpx(['sql', query, '--db', db, '--format', 'jsonl'], {env})

  it('stores the normalized profiles, big integers included, and mpx sql reads them back', async () => {
    const stored = await runMpx(['fetch:profiles', '--db', db], {env})
    expect(stored.code, stored.stderr).to.equal(0)
    expect(stored.stderr).to.include('Fetched 320 profiles to profiles')

    const rows = await sql('SELECT * FROM profiles ORDER BY distinct_id')
    expect(rows.code, rows.stderr).to.equal(0)
    const expected = [...profiles.lines()].map((line) => parseLossless(normalizeProfileLine(line)))
    expect(parsedLines(rows.stdout)).to.deep.equal((expected as Array<{distinct_id: string}>).sort(byId))
    expect(rows.stdout).to.match(/"company_id":\d{19}[,}]/)

    const never = await sql('SELECT count(*) AS n FROM profiles WHERE last_seen IS NULL')
    const missing = [...profiles.lines()].filter((line) => !line.includes('"$last_seen"')).length
    expect(parsedLines(never.stdout)).to.deep.equal([{n: missing}])
  })

  it('updates profiles already stored with --append, and adds the new ones', async () => {
    expect((await runMpx(['fetch:profiles', 'people', '--db', db, '--limit', '200', '--quiet'], {env})).code).to.equal(
      0,
    )
    // The same ids with other properties, and 120 more.
    const changed = generateProfiles({count: 320, seed: 15})
    server.setProfiles(changed)
    const appended = await runMpx(['fetch:profiles', 'people', '--db', db, '--append'], {env})
    expect(appended.code, appended.stderr).to.equal(0)

    const rows = await sql('SELECT * FROM people ORDER BY distinct_id')
    const expected = [...changed.lines()].map((line) => parseLossless(normalizeProfileLine(line)))
    expect(parsedLines(rows.stdout)).to.deep.equal((expected as Array<{distinct_id: string}>).sort(byId))
  })

  it('leaves the stored table as it was when a --replace fetch fails half-way', async () => {
    expect((await runMpx(['fetch:profiles', '--db', db, '--limit', '50', '--quiet'], {env})).code).to.equal(0)
    const before = await sql('SELECT * FROM profiles ORDER BY distinct_id')
    server.fail('engage', {match: (request) => request.params.page === '2', status: 401})
    const failed = await runMpx(['fetch:profiles', '--db', db, '--replace'], {env})
    expect(failed.code).to.equal(2)
    const after = await sql('SELECT * FROM profiles ORDER BY distinct_id')
    expect(after.stdout).to.equal(before.stdout)
    expect(parsedLines(after.stdout)).to.have.length(50)
  })
})
