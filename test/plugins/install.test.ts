import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readdir} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'

import {runMpx} from '../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {oclifHome, writeSinkPlugin} from '../support/plugins.js'

/** npm as @oclif/plugin-plugins runs it. */
const npmCli = join(dirname(createRequire(import.meta.url).resolve('npm/package.json')), 'bin', 'npm-cli.js')

describe('mpx plugins:install of a local plugin, offline', () => {
  let home: Awaited<ReturnType<typeof oclifHome>>
  let server: FakeMixpanel
  let env: Record<string, string>

  before(async () => {
    home = await oclifHome()
    server = await startFakeMixpanel({
      auth: {apiSecret: 'x'},
      events: generateEvents({count: 50, from: '2024-01-01', seed: 2, to: '2024-01-02'}),
    })
    env = {
      ...home.env,
      MP_API_SECRET: 'x',
      MPX_API_URL: server.url,
      MPX_RETRY_DELAY_MS: '1',
      // Any request to a registry would fail: a local plugin needs none.
      npm_config_cache: join(home.path, 'npm-cache'),
      npm_config_offline: 'true',
      npm_config_registry: 'http://127.0.0.1:9/',
    }
  })

  after(async () => {
    await server.close()
    await home.remove()
  })

  it('installs a directory and a tarball with file:, whose sink then lists and runs', async () => {
    const dir = await writeSinkPlugin(join(home.path, 'null-plugin'), 'mpx-sink-null', ['null'])
    const installed = await runMpx(['plugins:install', `file:${dir}`], {env})
    expect(installed.code, installed.stderr).to.equal(0)
    expect((await runMpx(['plugins'], {env})).stdout).to.include('mpx-sink-null 1.0.0')
    const sinks = await runMpx(['sinks'], {env})
    expect(sinks.stdout).to.include('null (mpx-sink-null): A sink of null')
    const fetched = await runMpx(['fetch:events', '2024-01-01', '2024-01-02', '--sink', 'null'], {env})
    expect(fetched.code, fetched.stderr).to.equal(0)
    expect(fetched.stderr).to.match(/Fetched 0 events/)
    expect(server.requests).to.have.length(1)

    expect((await runMpx(['plugins:uninstall', 'mpx-sink-null'], {env})).code).to.equal(0)
    expect((await runMpx(['sinks'], {env})).stdout).to.not.include('mpx-sink-null')

    await promisify(execFile)(process.execPath, [npmCli, 'pack', dir, '--pack-destination', home.path], {
      cwd: home.path,
      env: {...process.env, ...env},
    })
    const tarball = (await readdir(home.path)).find((file) => file.endsWith('.tgz'))
    expect(tarball).to.equal('mpx-sink-null-1.0.0.tgz')
    const fromTarball = await runMpx(['plugins:install', `file:${join(home.path, String(tarball))}`], {env})
    expect(fromTarball.code, fromTarball.stderr).to.equal(0)
    expect((await runMpx(['sinks', '--json'], {env})).stdout).to.include('"plugin": "mpx-sink-null"')
  })
})
