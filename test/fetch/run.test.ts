import {expect} from 'chai'
import {type RejectedRecord, RejectQueue} from 'mpx-mixpanel-core/internal/records/rejects.js'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {RecordBatch, Sink} from '../../src/sinks/sink.js'

import {runFetch} from '../../src/fetch/run.js'
import {target} from '../support/duckdb.js'
import {temporaryDirectory} from '../support/temporary.js'

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

async function* batches(): AsyncGenerator<string[]> {
  yield ['{"a":1}', '{"a":2}']
  yield ['{"a":3}']
}

/** Three raw events through runFetch into the recording sink, the second write failing if asked. */
function fetchThree(calls: string[], options: {failOnWrite?: number; onProgress?: (count: number) => void} = {}) {
  return runFetch({
    context: {dataDir: '/nowhere', signal: new AbortController().signal, warn() {}},
    format: 'raw',
    kind: 'events',
    onFinishing: () => calls.push('finishing'),
    onProgress: options.onProgress,
    sink: recordingSink(calls, options.failOnWrite),
    source: batches(),
    target: target({format: 'raw'}),
  })
}

describe('runFetch: the one data path from a source to a sink', () => {
  it('writes every batch, says when all has been received, then commits', async () => {
    const calls: string[] = []
    const counts: number[] = []
    const result = await fetchThree(calls, {onProgress: (count) => counts.push(count)})
    expect(calls).to.deep.equal(['open', 'write {"a":1} {"a":2}', 'write {"a":3}', 'finishing', 'commit'])
    expect(counts).to.deep.equal([2, 3])
    expect(result).to.deep.equal({written: 2})
  })

  it('aborts the writer with the error, and neither finishes nor commits, when a write fails', async () => {
    const calls: string[] = []
    const error = await fetchThree(calls, {failOnWrite: 2}).catch((error_: unknown) => error_)
    expect((error as Error).message).to.equal('disk full')
    expect(calls).to.deep.equal(['open', 'write {"a":1} {"a":2}', 'abort: disk full'])
  })

  it('hands the rejects of each batch to the writer after it; a writer without reject gets them kept in the data directory', async () => {
    const reject = (line: string): RejectedRecord => ({kind: 'events', line, reason: 'no properties'})
    const queue = new RejectQueue()
    async function* source(): AsyncGenerator<string[]> {
      queue.add(reject('{"event":"X"}'))
      yield ['{"a":1}']
      queue.add(reject('{"event":"Y"}'))
      queue.add(reject('{"event":"Z"}'))
      yield []
    }

    const calls: string[] = []
    const sink = recordingSink(calls)
    const withReject: Sink = {
      ...sink,
      async open(sinkTarget, context) {
        const writer = await sink.open(sinkTarget, context)
        return {
          ...writer,
          async reject(rejects) {
            calls.push(`reject ${rejects.map((record) => record.line).join(' ')}`)
          },
        }
      },
    }
    const context = {dataDir: '/nowhere', signal: new AbortController().signal, warn() {}}
    await runFetch({
      context,
      format: 'normalized',
      kind: 'events',
      rejects: queue,
      sink: withReject,
      source: source(),
      target: target(),
    })
    expect(calls).to.deep.equal([
      'open',
      'write {"a":1}',
      'reject {"event":"X"}',
      'write ',
      'reject {"event":"Y"} {"event":"Z"}',
      'commit',
    ])

    const directory = await temporaryDirectory()
    try {
      const fallback = await runFetch({
        context: {...context, dataDir: directory.path},
        format: 'normalized',
        kind: 'events',
        rejects: queue,
        sink: recordingSink([]),
        source: source(),
        target: target(),
      })
      const file = join(directory.path, 'rejects', 'recording-events.jsonl')
      expect(fallback.rejected).to.deep.equal({count: 3, location: file})
      const kept = (await readFile(file, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as {line: string})
      expect(kept.map((record) => record.line)).to.deep.equal(['{"event":"X"}', '{"event":"Y"}', '{"event":"Z"}'])
    } finally {
      await directory.remove()
    }
  })
})
