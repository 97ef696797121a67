import {expect} from 'chai'
import {join} from 'node:path'

import {apiSecretEnv, losslessJsonLines} from '../../support/cli.js'
import {generateProfiles} from '../../support/generate.js'
import {useCliWithFakeMixpanel} from '../../support/hooks.js'

const profiles = generateProfiles({count: 250, seed: 51})

describe('fetch:profiles into DuckDB', () => {
  const cli = useCliWithFakeMixpanel({engagePageSize: 100, profiles}, (server) =>
    apiSecretEnv(server.url, 'profiles-secret'),
  )

  it('stores what --stdout streams, one row per profile; --append updates changed profiles and adds new ones', async () => {
    const db = join(cli.directory, 'profiles.duckdb')
    const streamed = await cli.run(['fetch:profiles', '--stdout', '--quiet'])
    expect(streamed.code, streamed.stderr).to.equal(0)
    const stored = await cli.run(['fetch:profiles', '--db', db])
    expect(stored.code, stored.stderr).to.equal(0)
    expect(stored.stderr).to.include(`Fetched 250 profiles to profiles in ${db}`)
    const rows = await cli.run(['sql', 'SELECT * FROM profiles ORDER BY rowid', '--db', db, '--format', 'jsonl'])
    expect(losslessJsonLines(rows.stdout)).to.deep.equal(losslessJsonLines(streamed.stdout))
    expect(rows.stdout).to.match(/"company_id":\d{19}[,}]/)

    // u3 changed its plan; u250..u259 are new.
    const changed = [...profiles.lines(0, 250), ...generateProfiles({count: 260, seed: 51}).lines(250, 260)].map(
      (line) => (line.startsWith('{"$distinct_id":"u3"') ? line.replace(/"plan":"\w+"/, '"plan":"changed"') : line),
    )
    cli.server.setProfiles(changed)
    const appended = await cli.run(['fetch:profiles', '--db', db, '--append'])
    expect(appended.code, appended.stderr).to.equal(0)
    const summary = await cli.run(
      [
        'sql',
        `SELECT count(*) AS n, max(CASE WHEN distinct_id = 'u3' THEN properties->>'plan' END) AS plan FROM profiles`,
      ],
      {MPX_DB: db},
    )
    expect(summary.stdout).to.equal('{"n":260,"plan":"changed"}\n')
  })
})
