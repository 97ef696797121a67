import {expect} from 'chai'
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {spawn} from 'node:child_process'

import {binRun, CLI_ACCOUNT, repeatFlag, runMpxClosingStdout} from '../../support/cli.js'
import {generateEvents} from '../../support/generate.js'
import {useServiceAccountCli} from '../../support/hooks.js'

const events = generateEvents({count: 300, from: '2024-01-01', seed: 3, to: '2024-01-10'})
const rawLines = [...events.lines()]

describe('fetch:events', () => {
  const cli = useServiceAccountCli({events, gzipChunkBytes: 1000})

  it('streams normalized JSONL to stdout, one record a line, and a summary on stderr', async () => {
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(rawLines.map((line) => normalizeEventLine(line) + '\n').join(''))
    expect(result.stderr).to.match(/Fetched 300 events to stdout/)
  })

  it('writes raw lines byte for byte with --raw, big integers included', async () => {
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout', '--raw', '--quiet'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(rawLines.join('\n') + '\n')
    expect(result.stdout).to.match(/:\d{19}[,}]/)
    expect(result.stderr).to.equal('')
  })

  it('passes filters to Mixpanel and says that TABLE is ignored with --stdout', async () => {
    const filters = [...repeatFlag('-e', ['Search', 'Logged in']), '-w', 'true', '--limit', '7']
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-03', 'mytable', '--stdout', ...filters])
    expect(result.code).to.equal(0)
    expect(result.stderr).to.include('TABLE "mytable" is ignored with --stdout')
    const [request] = cli.server.requests
    expect(JSON.parse(request.query.event)).to.deep.equal(['Search', 'Logged in'])
    expect(request.query.where).to.equal('true')
    expect(result.stdout.trim().split('\n').length).to.be.at.most(7)
  })

  it('retries a reset mid-stream and still prints every record exactly once', async () => {
    cli.server.fail('export', {resetAfterRecords: 77})
    cli.server.fail('export', {retryAfter: 0, status: 429})
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout', '--raw'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal(rawLines.join('\n') + '\n')
    expect(result.stderr).to.match(/retry/)
  })

  it('exits 0 and prints nothing for an empty range', async () => {
    const result = await cli.run(['fetch:events', '2023-01-01', '2023-01-02', '--stdout'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('')
  })

  it('exits 2 with a one-line error and no output when Mixpanel rejects the credentials', async () => {
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout'], {MP_SECRET: 'wrong-secret'})
    expect(result.code).to.equal(2)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.match(/rejected the credentials/)
    expect(result.stderr.trim().split('\n')).to.have.length(1)
  })

  it('exits 5 when Mixpanel keeps rate-limiting', async () => {
    cli.server.fail('export', {retryAfter: 0, status: 429}, Number.POSITIVE_INFINITY)
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-10', '--stdout', '--retries', '2'])
    expect(result.code).to.equal(5)
    expect(result.stderr).to.match(/rate-limiting/)
    expect(cli.server.requests).to.have.length(3)
  })

  it('exits 3 for bad dates, FROM after TO, a missing argument and an unknown flag, with one line each', async () => {
    for (const args of [
      ['2024-13-01', '2024-01-10'],
      ['2024-01-10', '2024-01-01'],
      ['2024-01-10'],
      ['2024-01-01', '2024-01-10', '--nope'],
      ['2024-01-01', '2024-01-10', '--append', '--replace'],
      ['2024-01-01', '2024-01-10', '--limit', '0'],
    ]) {
      const result = await cli.run(['fetch:events', ...args, '--stdout'])
      expect(result.code, args.join(' ')).to.equal(3)
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1)
      expect(result.stderr).to.match(/^Error: \S.{10,}\n$/)
    }

    expect(cli.server.requests).to.have.length(0)
  })

  it('exits 3 quoting the expression when Mixpanel rejects --where', async () => {
    const result = await cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout', '-w', 'BAD'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('"BAD"')
  })

  it('never prints the secret, in output, errors or debug logs', async () => {
    const runs = await Promise.all([
      cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout'], {DEBUG: '*'}),
      cli.run(['fetch:events', '2024-01-01', '2024-01-02', '--stdout'], {DEBUG: '*', MP_USERNAME: 'x'}),
      cli.run(['fetch:events', '--help']),
    ])
    for (const run of runs) {
      expect(run.stdout + run.stderr).to.not.include(CLI_ACCOUNT.secret)
      expect(run.stdout + run.stderr).to.not.include(
        Buffer.from(`${CLI_ACCOUNT.username}:${CLI_ACCOUNT.secret}`).toString('base64'),
      )
    }
  })

  it('exits quietly with 0 when the reader closes stdout early (| head -1)', async () => {
    cli.server.setEvents(generateEvents({count: 20_000, from: '2024-01-01', seed: 5, to: '2024-01-10'}))
    try {
      const {code, stderr} = await runMpxClosingStdout(['fetch:events', '2024-01-01', '2024-01-10', '--stdout'], {
        env: cli.env,
      })
      expect(code).to.equal(0)
      expect(stderr).to.not.match(/EPIPE|Error/)
    } finally {
      cli.server.setEvents(events)
    }
  })

  it('stops at once on Ctrl-C (SIGINT) with status 130', async () => {
    cli.server.fail('export', {stallAfterRecords: 10, stallMs: 30_000})
    const child = spawn(process.execPath, [binRun, 'fetch:events', '2024-01-01', '2024-01-10', '--stdout'], {
      env: {...cli.env, PATH: process.env.PATH},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await new Promise<void>((resolve) => {
      child.stdout.once('data', () => resolve())
    })
    child.kill('SIGINT')
    const code = await new Promise<null | number>((resolve) => {
      child.on('close', resolve)
    })
    expect(code).to.equal(130)
  })
})
