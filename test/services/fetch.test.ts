import {expect} from 'chai'

import type {RecordBatch, Sink, SinkTarget} from '../../src/sinks/sink.js'

import {runFetch} from '../../src/services/fetch.js'

/** A sink that records what the data path asks of it, in order. */
function recordingSink(calls: string[], failOnWrite?: number): Sink {
  return {
    description: 'records calls',
    formats: ['normalized', 'raw'],
    name: 'recording',
    async open() {
      calls.push('open')
      let writes = 0
      return {
        async abort(error?: unknown) {
          calls.push(`abort: ${(error as Error).message}`)
        },
        async commit() {
          calls.push('commit')
          return {written: writes}
        },
        async write(batch: RecordBatch) {
          writes++
          if (writes === failOnWrite) throw new Error('disk full')
          calls.push(`write ${batch.lines.join(' ')}`)
        },
      }
    },
    optionsSchema: {additionalProperties: false, properties: {}, type: 'object'},
  }
}

const target: SinkTarget = {
  dedupe: true,
  filters: {},
  format: 'raw',
  kind: 'events',
  mode: 'create',
  options: {},
  table: 'events',
}

async function* batches(): AsyncGenerator<string[]> {
  yield ['{"a":1}', '{"a":2}']
  yield ['{"a":3}']
}

describe('runFetch: the one data path from a source to a sink', () => {
  it('writes every batch, says when all has been received, then commits', async () => {
    const calls: string[] = []
    const counts: number[] = []
    const result = await runFetch({
      context: {dataDir: '/nowhere', signal: new AbortController().signal, warn() {}},
      format: 'raw',
      kind: 'events',
      onFinishing: () => calls.push('finishing'),
      onProgress: (count) => counts.push(count),
      sink: recordingSink(calls),
      source: batches(),
      target,
    })
    expect(calls).to.deep.equal(['open', 'write {"a":1} {"a":2}', 'write {"a":3}', 'finishing', 'commit'])
    expect(counts).to.deep.equal([2, 3])
    expect(result).to.deep.equal({written: 2})
  })

  it('aborts the writer with the error, and neither finishes nor commits, when a write fails', async () => {
    const calls: string[] = []
    const error = await runFetch({
      context: {dataDir: '/nowhere', signal: new AbortController().signal, warn() {}},
      format: 'raw',
      kind: 'events',
      onFinishing: () => calls.push('finishing'),
      sink: recordingSink(calls, 2),
      source: batches(),
      target,
    }).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('disk full')
    expect(calls).to.deep.equal(['open', 'write {"a":1} {"a":2}', 'abort: disk full'])
  })
})
