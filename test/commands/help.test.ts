import {expect} from 'chai'

import {runMpxClosingStdout} from '../support/cli.js'

describe('help piped into a reader that leaves early (mpx --help | head -1)', () => {
  for (const args of [['--help'], ['fetch:events', '--help'], ['sql', '--help']]) {
    it(`mpx ${args.join(' ')}: exit 0 without a word on stderr`, async () => {
      const {code, stderr} = await runMpxClosingStdout(args)
      expect({code, stderr}).to.deep.equal({code: 0, stderr: ''})
    })
  }
})
