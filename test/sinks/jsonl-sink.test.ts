import {expect} from 'chai'
import {JsonLines} from 'mpx-mixpanel-core/internal/records/json-lines.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {once} from 'node:events'
import {PassThrough, Writable} from 'node:stream'

import {recordBatch} from '../../src/fetch/batch.js'
import {OutputClosedError} from '../../src/output/line-writer.js'
import {jsonlSink} from '../../src/sinks/jsonl-sink.js'
import {type SinkTarget} from '../../src/sinks/sink.js'

const target: SinkTarget = {
  dedupe: false,
  filters: {},
  format: 'raw',
  kind: 'events',
  mode: 'create',
  options: {},
  schema: schemas.events,
  table: 'events',
}
const context = {dataDir: '/nonexistent', signal: new AbortController().signal, warn() {}}

/** A stdout stand-in: everything written, and each write's size. */
function capture(): {stream: PassThrough; text: () => string; writes: number[]} {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  const writes: number[] = []
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    writes.push(chunk.length)
  })
  return {stream, text: () => Buffer.concat(chunks).toString('utf8'), writes}
}

const lines = (from: number, count: number, pad = '') =>
  Array.from({length: count}, (_, n) => `{"n":${from + n},"p":"${pad}"}`)

describe('jsonl sink', () => {
  it('writes byte blocks as they are, in order, gathering small ones into fewer writes', async () => {
    const out = capture()
    const writer = await jsonlSink(out.stream).open(target, context)
    const expected: string[] = []
    for (let k = 0; k < 20; k++) {
      const batch = lines(k * 3, 3)
      expected.push(...batch)
      await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(batch)))
    }

    const big = lines(60, 100, 'x'.repeat(100))
    expected.push(...big)
    await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(big)))
    const result = await writer.commit()
    expect(out.text()).to.equal(expected.map((line) => `${line}\n`).join(''))
    expect(result.written).to.equal(160)
    // Twenty small blocks went out in fewer writes than blocks.
    expect(out.writes.length).to.be.below(21)
  })

  it('writes a small block that no other follows without waiting for the end of the fetch', async () => {
    const out = capture()
    const writer = await jsonlSink(out.stream).open(target, context)
    const arrived = once(out.stream, 'data')
    await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(['{"a":1}'])))
    await arrived
    expect(out.text()).to.equal('{"a":1}\n')
    await writer.commit()
  })

  it('mixes line batches and byte blocks in order', async () => {
    const out = capture()
    const writer = await jsonlSink(out.stream).open(target, context)
    await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(['{"a":1}'])))
    await writer.write(recordBatch('events', 'raw', ['{"b":2}', '{"c":3}']))
    await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(['{"d":4}'])))
    const result = await writer.commit()
    expect(out.text()).to.equal('{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n')
    expect(result.written).to.equal(4)
  })

  it('reports a reader that left, and aborts without waiting for a drain that never comes', async () => {
    const stream = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        const error = new Error('write EPIPE') as NodeJS.ErrnoException
        error.code = 'EPIPE'
        callback(error)
      },
    })
    const writer = await jsonlSink(stream).open(target, context)
    let failure: unknown
    try {
      for (let k = 0; k < 50; k++) {
        await writer.write(recordBatch('events', 'raw', JsonLines.fromLines(lines(k * 100, 100, 'y'.repeat(100)))))
      }
    } catch (error) {
      failure = error
    }

    expect(failure).to.be.instanceOf(OutputClosedError)
    await writer.abort(failure)
  })
})
