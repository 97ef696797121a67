/** What --help says about flags, and -h as its short form on every command. */
import {Config} from '@oclif/core'
import {expect} from 'chai'

import {repoRoot} from '../../scripts/pack.js'
import {runMpx} from '../support/cli.js'

describe('help', () => {
  it('-h shows the help of every command, mpx itself included', async () => {
    const config = await Config.load({ignoreManifest: true, root: repoRoot})
    const ids = config.commands.filter((command) => !command.hidden).map((command) => command.id)
    expect(ids).to.include.members(['fetch:events', 'sinks', 'sql', 'plugins:install'])
    for (const args of [[], ...ids.map((id) => [id])]) {
      const result = await runMpx([...args, '-h'])
      expect(result.code, `mpx ${args.join(' ')} -h: ${result.stderr}`).to.equal(0)
      expect(result.stdout, `mpx ${args.join(' ')} -h`).to.include('USAGE')
    }
  })

  it('--retries shows its default; --region says how it is resolved, not a flat default', async () => {
    const help = await runMpx(['fetch:events', '--help'])
    // oclif wraps help to the terminal's width (80 here): compare it unwrapped.
    const text = help.stdout.replaceAll(/\s+/g, ' ')
    expect(text).to.include('--retries=<value> [default: 5] Retries of a failed request')
    expect(text).to.include(
      "--region=<option> Data residency region [default: MP_REGION or the account's region, else us]",
    )
  })
})
