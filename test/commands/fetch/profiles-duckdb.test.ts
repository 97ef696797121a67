import {expect} from 'chai'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {join} from 'node:path'

import {runMpx} from '../../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateProfiles} from '../../support/generate.js'
import {temporaryDirectory} from '../../support/temporary.js'

const profiles = generateProfiles({count: 250, seed: 51})
const parsedLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => parseLossless(line))

describe('fetch:profiles into DuckDB', () => {
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let db: string
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({engagePageSize: 100, profiles})
    directory = await temporaryDirectory()
    db = join(directory.path, 'profiles.duckdb')
    env = {
      MP_API_SECRET: 'profiles-secret',
      MPX_API_URL: server.url,
      MPX_CONFIG: '/nonexistent/mpx-test/config.json',
      MPX_RETRY_DELAY_MS: '1',
    }
  })

  after(async () => {
    await server.close()
    await directory.remove()
  })

  it('stores what --stdout streams, one row per profile; --append updates changed profiles and adds new ones', async () => {
    const streamed = await runMpx(['fetch:profiles', '--stdout', '--quiet'], {env})
    expect(streamed.code, streamed.stderr).to.equal(0)
    const stored = await runMpx(['fetch:profiles', '--db', db], {env})
    expect(stored.code, stored.stderr).to.equal(0)
    expect(stored.stderr).to.include(`Fetched 250 profiles to profiles in ${db}`)
    const rows = await runMpx(['sql', 'SELECT * FROM profiles ORDER BY rowid', '--db', db, '--format', 'jsonl'], {env})
    expect(parsedLines(rows.stdout)).to.deep.equal(parsedLines(streamed.stdout))
    expect(rows.stdout).to.match(/"company_id":\d{19}[,}]/)

    // u3 changed its plan; u250..u259 are new.
    const changed = [...profiles.lines(0, 250), ...generateProfiles({count: 260, seed: 51}).lines(250, 260)].map(
      (line) => (line.startsWith('{"$distinct_id":"u3"') ? line.replace(/"plan":"\w+"/, '"plan":"changed"') : line),
    )
    server.setProfiles(changed)
    const appended = await runMpx(['fetch:profiles', '--db', db, '--append'], {env})
    expect(appended.code, appended.stderr).to.equal(0)
    const summary = await runMpx(
      [
        'sql',
        `SELECT count(*) AS n, max(CASE WHEN distinct_id = 'u3' THEN properties->>'plan' END) AS plan FROM profiles`,
      ],
      {env: {...env, MPX_DB: db}},
    )
    expect(summary.stdout).to.equal('{"n":260,"plan":"changed"}\n')
  })
})
