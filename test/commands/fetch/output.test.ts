import {expect} from 'chai'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {runMpx} from '../../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateEvents} from '../../support/generate.js'
import {temporaryDirectory} from '../../support/temporary.js'

describe('fetch:events --output FILE', () => {
  let server: FakeMixpanel
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({
      auth: {apiSecret: 'x'},
      events: generateEvents({count: 300, from: '2024-01-01', seed: 6, to: '2024-01-05'}),
    })
    dir = await temporaryDirectory()
    env = {
      MP_API_SECRET: 'x',
      MPX_API_URL: server.url,
      MPX_CONFIG: join(dir.path, 'none.json'),
      MPX_RETRY_DELAY_MS: '1',
    }
  })

  after(async () => {
    await server.close()
    await dir.remove()
  })

  beforeEach(() => server.reset())

  it('writes what --stdout prints into the file, and nothing to stdout', async () => {
    const file = join(dir.path, 'events.jsonl')
    const expected = await runMpx(['fetch:events', '2024-01-01', '2024-01-05', '--stdout', '--quiet'], {env})
    const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-05', '-o', file], {env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.include(`Fetched 300 events to ${file}`)
    expect(await readFile(file, 'utf8')).to.equal(expected.stdout)
    expect(await readdir(dir.path)).to.deep.equal(['events.jsonl'])
  })

  it('refuses an existing file unless --replace or --append, which add all records or none', async () => {
    const file = join(dir.path, 'modes.jsonl')
    const args = ['fetch:events', '2024-01-01', '2024-01-05', '-o', file]
    const first = await runMpx(args, {env})
    expect(first.code, first.stderr).to.equal(0)
    const once = await readFile(file, 'utf8')

    const refused = await runMpx(args, {env})
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.match(/already exists: pass --replace .* or --append/)
    expect(server.requests.filter((request) => request.endpoint === 'export')).to.have.length(1)

    const appended = await runMpx([...args, '--append'], {env})
    expect(appended.code, appended.stderr).to.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once + once)

    server.fail('export', {resetAfterRecords: 50})
    const failedAppend = await runMpx([...args, '--append', '--retries', '0'], {env})
    expect(failedAppend.code).to.not.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once + once)

    const replaced = await runMpx([...args, '--replace'], {env})
    expect(replaced.code, replaced.stderr).to.equal(0)
    expect(await readFile(file, 'utf8')).to.equal(once)
    expect((await readdir(dir.path)).filter((name) => name.startsWith('modes'))).to.deep.equal(['modes.jsonl'])
  })

  it('leaves no file, not even a partial one, when the fetch fails midway', async () => {
    const file = join(dir.path, 'failed.jsonl')
    server.fail('export', {resetAfterRecords: 100})
    const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-05', '--output', file, '--retries', '0'], {env})
    expect(result.code).to.not.equal(0)
    expect((await readdir(dir.path)).filter((name) => name.startsWith('failed'))).to.deep.equal([])
  })

  it('exits 3 with --stdout or --sink, before any request', async () => {
    for (const other of [['--stdout'], ['--sink', 'duckdb']]) {
      const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-05', '--output', 'x.jsonl', ...other], {env})
      expect(result.code, result.stderr).to.equal(3)
      expect(result.stderr.trim().split('\n')).to.have.length(1)
    }

    expect(server.requests).to.have.length(0)
  })
})
