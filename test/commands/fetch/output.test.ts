import {expect} from 'chai'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {apiSecretEnv} from '../../support/cli.js'
import {generateEvents} from '../../support/generate.js'
import {useCliWithFakeMixpanel} from '../../support/hooks.js'

describe('fetch:events --output FILE', () => {
  const cli = useCliWithFakeMixpanel(
    {auth: {apiSecret: 'x'}, events: generateEvents({count: 300, from: '2024-01-01', seed: 6, to: '2024-01-05'})},
    (server) => apiSecretEnv(server.url, 'x'),
  )

  it('writes what --stdout prints into the file, and nothing to stdout', async () => {
    const file = join(cli.directory, 'events.jsonl')
    const expected = await cli.run(['fetch:events', '2024-01-01', '2024-01-05', '--stdout', '--quiet'])
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-05', '-o', file])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.include(`Fetched 300 events to ${file}`)
    expect(await readFile(file, 'utf8')).to.equal(expected.stdout)
    expect(await readdir(cli.directory)).to.deep.equal(['events.jsonl'])
  })

  it('refuses an existing file unless --replace or --append, which add all records or none', async () => {
    const file = join(cli.directory, 'modes.jsonl')
    const args = ['fetch:events', '2024-01-01', '2024-01-05', '-o', file]
    const first = await cli.run(args)
    expect(first.code, first.stderr).to.equal(0)
    const once = await readFile(file, 'utf8')

    const refused = await cli.run(args)
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.match(/already exists: pass --replace .* or --append/)
    expect(cli.server.requests.filter((request) => request.endpoint === 'export')).to.have.length(1)

    const appended = await cli.run([...args, '--append'])
    expect(appended.code, appended.stderr).to.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once + once)

    cli.server.fail('export', {resetAfterRecords: 50})
    const failedAppend = await cli.run([...args, '--append', '--retries', '0'])
    expect(failedAppend.code).to.not.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once + once)

    const replaced = await cli.run([...args, '--replace'])
    expect(replaced.code, replaced.stderr).to.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once)
    expect((await readdir(cli.directory)).filter((name) => name.startsWith('modes'))).to.deep.equal(['modes.jsonl'])
  })

  it('leaves no file, not even a partial one, when the fetch fails midway', async () => {
    const file = join(cli.directory, 'failed.jsonl')
    cli.server.fail('export', {resetAfterRecords: 100})
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-05', '--output', file, '--retries', '0'])
    expect(result.code).to.not.equal(0)
    expect((await readdir(cli.directory)).filter((name) => name.startsWith('failed'))).to.deep.equal([])
  })

  it('exits 3 with --stdout or --sink, before any request', async () => {
    for (const other of [['--stdout'], ['--sink', 'duckdb']]) {
      const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-05', '--output', 'x.jsonl', ...other])
      expect(result.code, result.stderr).to.equal(3)
      expect(result.stderr.trim().split('\n')).to.have.length(1)
    }

    expect(cli.server.requests).to.have.length(0)
  })
})
