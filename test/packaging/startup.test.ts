import {expect} from 'chai'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {repoRoot} from '../../scripts/pack.js'
import {heavyModules, runCommand, runNode} from '../support/packaging/package.js'

/*
 * The installed package loads only the command it runs (from the oclif manifest: see
 * pack.test.ts). Without a manifest (a checkout, `oclif manifest` itself, `oclif readme`), oclif
 * imports every command module: so none may import DuckDB, got or ora at its top level. Commands
 * import such modules in run(), where they are needed.
 */
describe('start-up: command modules load heavy dependencies lazily', () => {
  it('importing every command of this checkout loads no DuckDB, got or ora', async () => {
    const core = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('@oclif/core')).href
    const script = [
      `const {Config} = await import(${JSON.stringify(core)})`,
      `const config = await Config.load({ignoreManifest: true, root: ${JSON.stringify(repoRoot)}})`,
      `const ours = config.commands.filter((command) => command.pluginName === 'mpx-mixpanel')`,
      'await Promise.all(ours.map((command) => command.load()))',
      'console.log(ours.map((command) => command.id).join(" "))',
    ].join('\n')
    const result = await runCommand(process.execPath, ['--input-type=module', '-e', script], {record: true})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout.split(' ')).to.include.members(['fetch:events', 'fetch:profiles', 'auth:test'])
    // The recorder saw the command modules themselves.
    expect(result.loaded.filter((name) => name.endsWith('/dist/commands/fetch/events.js'))).to.have.length(1)
    expect(heavyModules(result.loaded)).to.deep.equal([])
  })

  it('mpx --version from this checkout (no manifest) loads none either', async () => {
    const result = await runNode(join(repoRoot, 'bin', 'run.js'), ['--version'], {record: true})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.match(/^mpx-mixpanel\//)
    expect(heavyModules(result.loaded)).to.deep.equal([])
  })
})
