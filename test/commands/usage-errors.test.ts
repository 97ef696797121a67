/**
 * What a new user typing mpx slightly wrong gets: one line on stderr naming what was wrong, exit 3,
 * nothing on stdout (the built CLI, as users run it).
 */
import {expect} from 'chai'

import {runMpx} from '../support/cli.js'

/** One line on stderr, exit 3, nothing on stdout. */
function expectUsageError(result: {code: null | number; stderr: string; stdout: string}): string {
  expect(result.code, result.stderr).to.equal(3)
  expect(result.stdout).to.equal('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).to.have.lengthOf(1)
  expect(result.stderr).to.not.match(/TypeError|at \w+ \(/)
  return lines[0]
}

describe('usage errors', () => {
  describe('extra arguments: exit 3, one line naming them', () => {
    for (const [args, named, takes] of [
      [['fetch:events', '2024-01-01', '2024-01-02', 'events', 'extra', '--stdout'], '"extra"', 'FROM TO [TABLE]'],
      [['tables', 'x', 'y'], '"x", "y"', 'no arguments'],
      [['sql', 'select 1', 'select 2'], '"select 2"', 'QUERY'],
      [['auth:list', 'foo'], '"foo"', 'no arguments'],
    ] as const) {
      it(`mpx ${args.join(' ')}`, async () => {
        const line = expectUsageError(await runMpx(args))
        expect(line).to.include(`Unexpected argument${named.includes(',') ? 's' : ''} ${named}`)
        expect(line).to.include(`takes ${takes}`)
      })
    }
  })
})
