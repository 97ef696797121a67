import type {Config} from '@oclif/core'

import {expect} from 'chai'
import {ExitCode, MpxError, NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import type {Sink, SinkContext, SinkWriter} from '../../src/sinks/sink.js'

import {recordBatch} from '../../src/fetch/batch.js'
import {
  checkSinks,
  discoverSinks,
  findSink,
  listSinks,
  SINKS_HOOK_TIMEOUT_MS,
} from '../../src/sink-registry/registry.js'
import {target} from '../support/duckdb.js'

interface Answer {
  error?: Error
  plugin: string
  result?: unknown
}

/** A Config whose `sinks` hook gets these answers, as oclif's runHook reports them. */
function fakeConfig(answers: Answer[], calls: unknown[][] = []): Config {
  const config = {
    async runHook(...args: unknown[]) {
      calls.push(args)
      return {
        failures: answers.filter((a) => a.error).map((a) => ({error: a.error, plugin: {name: a.plugin}})),
        successes: answers.filter((a) => !a.error).map((a) => ({plugin: {name: a.plugin}, result: a.result})),
      }
    },
  }
  return config as unknown as Config
}

function sink(name: string, overrides: Partial<Sink> = {}): Sink {
  return {
    description: `the ${name} sink`,
    formats: ['normalized'],
    name,
    async open(): Promise<SinkWriter> {
      return {async abort() {}, commit: async () => ({written: 0}), async write() {}}
    },
    optionsSchema: {additionalProperties: false, properties: {}, type: 'object'},
    ...overrides,
  }
}

const sinkContext = (warnings: string[] = []): SinkContext => ({
  dataDir: '/nowhere',
  signal: new AbortController().signal,
  warn: (message) => warnings.push(message),
})

describe('sink registry', () => {
  it('lists the built-ins without a config, and loads them lazily', async () => {
    const {entries, failures} = await listSinks()
    expect(entries.map((entry) => `${entry.name}:${entry.plugin}`)).to.deep.equal(['jsonl:mpx', 'duckdb:mpx'])
    expect(failures).to.deep.equal([])
    const duckdb = await entries[1].load()
    expect(duckdb.name).to.equal('duckdb')
  })

  it("asks every plugin's sinks hook, with a timeout and errors captured, and orders plugins by name", async () => {
    const calls: unknown[][] = []
    const config = fakeConfig(
      [
        {plugin: 'mpx-sink-zeta', result: [sink('zeta')]},
        {plugin: 'mpx-sink-alpha', result: [sink('alpha-one'), sink('alpha-two')]},
        {plugin: '@oclif/plugin-help', result: undefined},
      ],
      calls,
    )
    const {entries} = await listSinks(config)
    expect(calls).to.deep.equal([['sinks', {}, SINKS_HOOK_TIMEOUT_MS, true]])
    expect(entries.map((entry) => `${entry.name}:${entry.plugin}`)).to.deep.equal([
      'jsonl:mpx',
      'duckdb:mpx',
      'alpha-one:mpx-sink-alpha',
      'alpha-two:mpx-sink-alpha',
      'zeta:mpx-sink-zeta',
    ])
    expect((await findSink('zeta', config)).description).to.equal('the zeta sink')
  })

  it('names both plugins when two sinks share a name, a built-in included', async () => {
    const twoPlugins = fakeConfig([
      {plugin: 'mpx-sink-a', result: [sink('parquet')]},
      {plugin: 'mpx-sink-b', result: [sink('parquet')]},
    ])
    for (const run of [() => listSinks(twoPlugins), () => findSink('parquet', twoPlugins)]) {
      const error = await run().catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UsageError)
      expect((error as Error).message).to.equal(
        'Two sinks are named "parquet": one from mpx-sink-a, one from mpx-sink-b; uninstall mpx-sink-a or mpx-sink-b (mpx plugins uninstall NAME)',
      )
    }

    const shadow = fakeConfig([{plugin: 'mpx-sink-evil', result: [sink('duckdb')]}])
    const error = await findSink('duckdb', shadow).catch((error_: unknown) => error_)
    expect((error as Error).message).to.match(
      /^Two sinks are named "duckdb": one from mpx, one from mpx-sink-evil; uninstall mpx-sink-evil /,
    )
  })

  it('still finds a sink whose name is unique when two others clash', async () => {
    const config = fakeConfig([
      {plugin: 'mpx-sink-a', result: [sink('parquet')]},
      {plugin: 'mpx-sink-b', result: [sink('parquet')]},
    ])
    expect((await findSink('jsonl', config)).name).to.equal('jsonl')
  })

  it('leaves out a plugin whose hook fails or answers with something else, and says so', async () => {
    const config = fakeConfig([
      {error: new Error('Timed out after 10000 ms.'), plugin: 'mpx-sink-slow'},
      {plugin: 'mpx-sink-odd', result: {name: 'not an array'}},
      {plugin: 'mpx-sink-ok', result: [sink('ok')]},
    ])
    const {entries, failures} = await discoverSinks(config)
    expect(entries.map((entry) => entry.name)).to.deep.equal(['jsonl', 'duckdb', 'ok'])
    expect(failures).to.deep.equal([
      {message: 'Timed out after 10000 ms.', plugin: 'mpx-sink-slow'},
      {message: 'its sinks hook must resolve to an array of sinks', plugin: 'mpx-sink-odd'},
    ])

    const warnings: string[] = []
    expect((await findSink('ok', config, (message) => warnings.push(message))).name).to.equal('ok')
    expect(warnings).to.deep.equal([
      'Plugin mpx-sink-slow could not list its sinks: Timed out after 10000 ms.',
      'Plugin mpx-sink-odd could not list its sinks: its sinks hook must resolve to an array of sinks',
    ])

    const missing = await findSink('slow', config).catch((error: unknown) => error)
    expect(missing).to.be.instanceOf(NotFoundError)
    expect((missing as Error).message).to.equal(
      'No sink named "slow": available sinks are jsonl, duckdb, ok (see mpx sinks); Plugin mpx-sink-slow could not list its sinks: Timed out after 10000 ms.; Plugin mpx-sink-odd could not list its sinks: its sinks hook must resolve to an array of sinks',
    )
  })

  it('checks the shape of what a hook answers', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[null], /sink 0 is not an object/],
      [[sink('Bad Name')], /sink "Bad Name" needs a name of lower-case letters/],
      [[{...sink('x'), description: undefined}], /sink "x" needs a description/],
      [[{...sink('x'), open: 'no'}], /needs an open\(target, context\) function/],
      [[sink('x', {formats: []})], /needs formats, some of normalized, raw/],
      [[sink('x', {formats: ['csv' as 'raw']})], /needs formats/],
      [[sink('x', {optionsSchema: {type: 'string'}})], /needs an optionsSchema of type "object"/],
      [[sink('x', {optionsSchema: {properties: {a: {type: 'nonsense'}}, type: 'object'}})], /invalid optionsSchema/],
    ]
    for (const [answer, error] of bad) expect(() => checkSinks(answer), String(error)).to.throw(error)
    expect(checkSinks(null)).to.deep.equal([])
    expect(checkSinks([sink('fine-2')]).map((s) => s.name)).to.deep.equal(['fine-2'])
  })

  it("makes a plugin's errors one-line mpx errors naming the sink, with the exit code it asks for", async () => {
    const failing = sink('flaky', {
      async open(sinkTarget) {
        if (sinkTarget.table === 'usage') throw Object.assign(new Error('dir is not writable'), {exitCode: 3})
        if (sinkTarget.table === 'weird') throw Object.assign(new Error('odd code'), {exitCode: 42})
        return {
          async abort() {
            throw new Error('could not remove the temporary directory')
          },
          async commit() {
            throw new Error('disk full')
          },
          async write() {
            const error = new Error('stopped')
            error.name = 'AbortError'
            throw error
          },
        }
      },
    })
    const config = fakeConfig([{plugin: 'mpx-sink-flaky', result: [failing]}])
    const loaded = await findSink('flaky', config)

    const usage = await loaded.open(target({table: 'usage'}), sinkContext()).catch((error: unknown) => error)
    expect(usage).to.be.instanceOf(MpxError)
    expect((usage as MpxError).exitCode).to.equal(ExitCode.Usage)
    expect((usage as Error).message).to.equal('Sink "flaky" (mpx-sink-flaky): dir is not writable')
    const weird = await loaded.open(target({table: 'weird'}), sinkContext()).catch((error: unknown) => error)
    expect((weird as MpxError).exitCode).to.equal(ExitCode.Failure)

    const warnings: string[] = []
    const writer = await loaded.open(target(), sinkContext(warnings))
    const aborted = await writer.write(recordBatch('events', 'normalized', ['{}'])).catch((error: unknown) => error)
    expect((aborted as Error).name).to.equal('AbortError')
    const commit = await writer.commit().catch((error: unknown) => error)
    expect((commit as Error).message).to.equal('Sink "flaky" (mpx-sink-flaky): disk full')
    // abort never hides the error that made the fetch fail: it warns instead.
    await writer.abort(new Error('the fetch failed'))
    expect(warnings).to.deep.equal([
      'Sink "flaky" (mpx-sink-flaky) could not clean up: could not remove the temporary directory',
    ])
  })
})
