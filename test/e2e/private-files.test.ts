/**
 * Exported data is users' personal data: what a fetch creates is owner-only (like the config
 * file), even from a shell whose umask lets others read (022).
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {binRun, type CliResult, outcome} from '../support/cli.js'
import {E2E_ACCOUNT, e2eEnv} from '../support/e2e.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

// eslint-disable-next-line no-bitwise -- permission bits
const permissions = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8)

describe('files a fetch creates are owner-only', function () {
  this.timeout(60_000)
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>

  /** mpx run from a shell with umask 022, the common default. */
  async function mpx(args: string[]): Promise<CliResult> {
    const child = spawn('sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, binRun, ...args], {
      env: {HOME: process.env.HOME, PATH: process.env.PATH, ...e2eEnv(server.url, directory.path)},
    })
    child.stdin.end()
    return outcome(child)
  }

  before(async () => {
    directory = await temporaryDirectory()
    server = await startFakeMixpanel({
      auth: E2E_ACCOUNT,
      events: generateEvents({count: 40, from: '2024-01-01', seed: 9, to: '2024-01-02'}),
    })
  })

  after(async () => {
    await server.close()
    await directory.remove()
  })

  it('the default database (0600) and the data directory it is created in (0700)', async () => {
    const result = await mpx(['fetch:events', '2024-01-01', '2024-01-02', '--quiet'])
    expect(result.code, result.stderr).to.equal(0)
    const dataDir = join(directory.path, 'data', 'mpx')
    expect(await permissions(dataDir)).to.equal('700')
    expect(await permissions(join(dataDir, '4242.duckdb'))).to.equal('600')
  })

  it('a --db file (0600)', async () => {
    const db = join(directory.path, 'elsewhere.duckdb')
    const result = await mpx(['fetch:events', '2024-01-01', '2024-01-02', '--quiet', '--db', db])
    expect(result.code, result.stderr).to.equal(0)
    expect(await permissions(db)).to.equal('600')
  })

  it('an -o file (0600)', async () => {
    const file = join(directory.path, 'events.jsonl')
    const result = await mpx(['fetch:events', '2024-01-01', '2024-01-02', '--quiet', '-o', file])
    expect(result.code, result.stderr).to.equal(0)
    expect(await permissions(file)).to.equal('600')
  })
})
