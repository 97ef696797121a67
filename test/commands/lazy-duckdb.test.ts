import {expect} from 'chai'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {runMpx} from '../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {temporaryDirectory} from '../support/temporary.js'

const reporter = fileURLToPath(new URL('../support/report-native-addons.cjs', import.meta.url))

describe('DuckDB is loaded only when a command needs the database', () => {
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({events: generateEvents({count: 20, from: '2024-01-01', to: '2024-01-01'})})
    directory = await temporaryDirectory()
    env = {
      MP_API_SECRET: 'lazy',
      MPX_API_URL: server.url,
      MPX_CONFIG: '/nonexistent/mpx-test/config.json',
      NODE_OPTIONS: `--require ${reporter}`,
      XDG_DATA_HOME: directory.path,
    }
  })

  after(async () => {
    await server.close()
    await directory.remove()
  })

  it('is not loaded by --help or by a fetch to --stdout', async () => {
    for (const args of [
      ['sql', '--help'],
      ['tables', '--help'],
      ['tables:describe', '--help'],
      ['tables:drop', '--help'],
      ['fetch:events', '--help'],
      ['fetch:events', '2024-01-01', '2024-01-01', '--stdout'],
    ]) {
      const result = await runMpx(args, {env})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr, args.join(' ')).to.not.include('duckdb')
    }
  })

  it('is loaded by the database commands (the check sees it)', async () => {
    const result = await runMpx(['tables', '--db', join(directory.path, 'missing.duckdb')], {env})
    expect(result.code).to.equal(4)
    expect(result.stderr).to.match(/native addon: .*duckdb/)
  })
})
