/**
 * What a new user typing mpx slightly wrong gets: one line on stderr naming what was wrong, exit 3,
 * nothing on stdout (the built CLI, as users run it).
 */
import {expect} from 'chai'

import {runMpx, serviceAccountEnv} from '../support/cli.js'
import {generateEvents} from '../support/generate.js'
import {useServiceAccountCli} from '../support/hooks.js'

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

  describe('topics and commands with spaces instead of colons', () => {
    const cli = useServiceAccountCli({
      events: generateEvents({count: 30, from: '2024-01-01', seed: 5, to: '2024-01-02'}),
    })

    it('mpx fetch events FROM TO --stdout is mpx fetch:events FROM TO --stdout', async () => {
      const spaced = await cli.run(['fetch', 'events', '2024-01-01', '2024-01-02', '--stdout'])
      const colon = await cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout'])
      expect(spaced.code, spaced.stderr).to.equal(0)
      expect(spaced.stdout.split('\n').filter(Boolean)).to.have.lengthOf(30)
      expect(spaced.stdout).to.equal(colon.stdout)
    })

    it('a topic given a word that is none of its commands: exit 3, never its help with exit 0', async () => {
      const line = expectUsageError(await runMpx(['fetch', 'event', '2024-01-01', '2024-01-31', '--stdout']))
      expect(line).to.include('fetch:event')
      expectUsageError(await runMpx(['auth', 'nope']))
    })

    it('a command that is also a topic takes its sub-commands spaced too, and keeps its own arguments', async () => {
      const describe = await runMpx(['tables', 'describe', 'events', '--db', '/nonexistent/mpx.duckdb'])
      expect(describe.code).to.equal(4)
      expect(describe.stderr).to.include('No database at /nonexistent/mpx.duckdb')
      expect(expectUsageError(await runMpx(['tables', 'x']))).to.include('Unexpected argument "x"')
    })

    it('help keeps the colon form, and a topic alone still shows its help', async () => {
      const help = await runMpx(['fetch', 'events', '--help'])
      expect(help.code).to.equal(0)
      expect(help.stdout).to.include('$ mpx fetch:events FROM TO [TABLE]')
      const viaHelp = await runMpx(['help', 'fetch', 'events'])
      expect(viaHelp.stdout).to.include('$ mpx fetch:events FROM TO [TABLE]')
      const topic = await runMpx(['fetch'])
      expect(topic.code).to.equal(0)
      expect(topic.stdout).to.include('fetch:events')
    })

    it('every command mpx sinks --help recommends exists, and answers --help', async () => {
      const help = await runMpx(['sinks', '--help'])
      const recommended = [...help.stdout.matchAll(/mpx (plugins:\w+)/g)].map((match) => match[1])
      expect(new Set(recommended)).to.deep.equal(new Set(['plugins:install', 'plugins:link']))
      for (const id of recommended) {
        const result = await runMpx([...id.split(':'), '--help'])
        expect(result.code, `${id}: ${result.stderr}`).to.equal(0)
        expect(result.stdout).to.include(`$ mpx ${id}`)
      }
    })
  })

  describe('flags that would be accepted and ignored: exit 3 naming the conflict, before any request', () => {
    const range = ['2024-01-01', '2024-01-02']
    for (const [args, conflict] of [
      [['fetch:events', ...range, '--stdout', '--append'], '--append cannot be used with --stdout'],
      [['fetch:events', ...range, '--stdout', '--replace'], '--replace cannot be used with --stdout'],
      [['fetch:events', ...range, '--stdout', '--db', 'x.duckdb'], '--db cannot be used with --stdout'],
      [['fetch:events', ...range, '-o', 'x.jsonl', '--db', 'x.duckdb'], '--db cannot be used with --output'],
      [['fetch:events', ...range, '--sink', 'jsonl', '--db', 'x.duckdb'], '--db cannot be used with --sink jsonl'],
      [['fetch:profiles', '--stdout', '--replace'], '--replace cannot be used with --stdout'],
      [['fetch:profiles', '--stdout', '--include-all-users'], '--include-all-users applies only with --cohort'],
      [['fetch:profiles', '--stdout', '--no-include-all-users'], '--no-include-all-users applies only with --cohort'],
      [['fetch:events', ...range, '--stdout', '-e', 'Signed up', '-e', ''], '--event "" names no event'],
    ] as const) {
      it(`mpx ${args.join(' ')}`, async () => {
        // Credentials pointing nowhere: the refusal must come before any of them is used.
        const env = serviceAccountEnv('http://127.0.0.1:9', {secret: 's', username: 'u'})
        const line = expectUsageError(await runMpx(args, {env}))
        expect(line).to.include(conflict)
      })
    }
  })
})
