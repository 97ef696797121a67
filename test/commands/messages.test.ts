/**
 * Messages a new user would be misled by: each says what is wrong in words that fit the case.
 */
import {expect} from 'chai'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Sink} from '../../src/sinks/sink.js'

import {validateSinkOptions} from '../../src/sinks/options.js'
import {apiSecretEnv, runMpx} from '../support/cli.js'
import {generateEvents} from '../support/generate.js'
import {useCliWithFakeMixpanel} from '../support/hooks.js'

describe('messages that say what is the case', () => {
  const cli = useCliWithFakeMixpanel(
    {auth: {apiSecret: 'x'}, events: generateEvents({count: 1, from: '2024-01-01', seed: 8, to: '2024-01-01'})},
    (server) => apiSecretEnv(server.url, 'x'),
  )

  /** The CLI with this config file (no credentials in the environment). */
  async function withConfig(config: unknown, args: string[]) {
    const path = join(cli.directory, 'config.json')
    await writeFile(path, JSON.stringify(config), {mode: 0o600})
    return runMpx(args, {env: {MPX_CONFIG: path}})
  }

  it('saved accounts but no default: names them and mpx auth:use NAME', async () => {
    const account = {secret: 's', type: 'api-secret'}
    const result = await withConfig({accounts: {prod: account, staging: account}}, ['auth:test'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.equal(
      'Error: No default account: make one of the saved accounts (prod, staging) the default with mpx auth:use NAME\n',
    )
  })

  it('a project id written as a number, and a region not among the allowed ones, in the config file', async () => {
    const numeric = {accounts: {prod: {projectId: 123_456, secret: 's', type: 'service-account', username: 'u'}}}
    const result = await withConfig(numeric, ['auth:test'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('accounts.prod.projectId must be a string of digits, in quotes')
    const region = await withConfig({accounts: {prod: {region: 'mars', secret: 's', type: 'api-secret'}}}, [
      'auth:test',
    ])
    expect(region.stderr).to.include('accounts.prod.region must be one of us, eu, in')
    expect(`${result.stderr}${region.stderr}`).to.not.match(/must be string|allowed values/)
  })

  it('a sink option: the allowed values, the limits, the missing option, in words', () => {
    const sink = {
      description: 'test',
      formats: ['normalized'],
      name: 'test',
      async open() {
        throw new Error('not opened')
      },
      optionsSchema: {
        additionalProperties: false,
        properties: {
          compression: {enum: ['zstd', 'snappy'], type: 'string'},
          dir: {type: 'string'},
          threads: {minimum: 1, type: 'integer'},
        },
        required: ['dir'],
        type: 'object',
      },
    } as unknown as Sink
    const message = (options: Record<string, unknown>) => {
      try {
        validateSinkOptions(sink, options)
      } catch (error) {
        return (error as Error).message
      }

      throw new Error('expected a refusal')
    }

    expect(message({compression: 'gzip', dir: 'x'})).to.equal(
      '--sink-option compression must be one of zstd, snappy (sink "test")',
    )
    expect(message({dir: 'x', threads: '0'})).to.equal('--sink-option threads must be at least 1 (sink "test")')
    expect(message({dir: 'x', threads: 'many'})).to.equal('--sink-option threads must be a whole number (sink "test")')
    expect(message({})).to.equal('--sink-option dir is missing (sink "test")')
  })

  it('mpx sql "" (or only semicolons): exit 3, one line, not "Error in native callback"', async () => {
    for (const query of ['', ' ;; ']) {
      const result = await runMpx(['sql', query, '--db', join(cli.directory, 'empty.duckdb'), '--write'])
      expect(result.code, result.stderr).to.equal(3)
      expect(result.stderr).to.match(/^Error: The query "[ ;]*" holds no SQL: [^\n]+\n$/)
    }
  })

  it('-o in a directory that does not exist names the path', async () => {
    const file = join(cli.directory, 'missing', 'dir', 'events.jsonl')
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-01', '-o', file])
    expect(result.code).to.equal(1)
    expect(result.stderr).to.match(/^Error: [^\n]+\n$/)
    expect(result.stderr).to.include(join(cli.directory, 'missing', 'dir'))
  })

  it('one event is "1 event"', async () => {
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-01', '-o', join(cli.directory, 'one.jsonl')])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.match(/^Fetched 1 event to \S+one\.jsonl in/)
  })

  it('--retries 0: no "after every retry", no "kept"', async () => {
    cli.server.fail('export', {status: 503}, Number.POSITIVE_INFINITY)
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-01', '--stdout', '--retries', '0'])
    expect(result.code).to.equal(1)
    expect(cli.server.requests).to.have.lengthOf(1)
    expect(result.stderr).to.match(/^Error: [^\n]+, with retries turned off[^\n]*\n$/)
    cli.server.reset()
    cli.server.fail('export', {terminatedEarlyAfterRecords: 0}, Number.POSITIVE_INFINITY)
    const early = await cli.run(['fetch:events', '2024-01-01', '2024-01-01', '--stdout', '--retries', '0'])
    expect(early.stderr).to.include(
      'Mixpanel ended the export of 2024-01-01..2024-01-01 early, with retries turned off',
    )
  })

  it('SQL DuckDB cannot parse: the first line says what, then the query with a caret, no blank lines', async () => {
    const result = await runMpx(['sql', 'SELEC 1', '--db', join(cli.directory, 'caret.duckdb'), '--write'])
    expect(result.code).to.equal(3)
    const lines = result.stderr.trimEnd().split('\n')
    expect(lines[0]).to.match(/^Error: .*syntax error at or near "SELEC"$/)
    expect(lines.slice(1)).to.deep.equal(['LINE 1: SELEC 1', '        ^'])
  })
})
