import {expect} from 'chai'

import {closestCommand, editDistance} from '../../src/hooks/command-not-found.js'
import {runMpx} from '../support/cli.js'

describe('an unknown command', () => {
  it('is a one-line usage error (exit 3) naming the command it most likely meant', async () => {
    const result = await runMpx(['fetch:event', '2024-01-01', '2024-01-02'])
    expect(result.code).to.equal(3)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.equal(
      'Error: Unknown command "fetch:event": did you mean fetch:events? (see mpx --help)\n',
    )
  })

  it('suggests nothing when no command is close', async () => {
    const result = await runMpx(['export-everything'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.equal('Error: Unknown command "export-everything": see mpx --help\n')
  })

  it('finds the nearest command within a third of the name', () => {
    expect(editDistance('tabels', 'tables')).to.equal(2)
    expect(editDistance('', 'sql')).to.equal(3)
    const ids = ['fetch:events', 'fetch:profiles', 'tables', 'tables:drop', 'sql']
    expect(closestCommand('tabels', ids)).to.equal('tables')
    expect(closestCommand('fetch:profile', ids)).to.equal('fetch:profiles')
    expect(closestCommand('sq', ids)).to.equal('sql')
    expect(closestCommand('nope', ids)).to.equal(undefined)
  })
})
