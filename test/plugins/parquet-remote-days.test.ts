/**
 * The Parquet sink's day writer into a bucket, driven as mpx's sync drives it, against the test S3
 * server: what its state object says when a chunk's publish fails after the copies began.
 */
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {ObjectStorage} from '../../src/object-storage/types.js'
import type {DaysTarget, Sink, SinkContext} from '../../src/sinks/sink.js'

import {recordBatch} from '../../src/fetch/batch.js'
import {objectStorage} from '../../src/object-storage/index.js'
import {target} from '../support/duckdb.js'
import {type FakeS3} from '../support/fake-s3.js'
import {useFakeS3} from '../support/hooks.js'
import {normalizedEvents} from '../support/normalized.js'
import {parquetPluginDir} from '../support/plugins.js'
import {temporaryDirectory} from '../support/temporary.js'

async function loadParquetSink(): Promise<(settings?: {fileBytes?: number}) => Sink> {
  const entry = join(parquetPluginDir, 'dist', 'index.js')
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`)
  return ((await import(pathToFileURL(entry).href)) as {parquetSink: () => Sink}).parquetSink
}

const lines = normalizedEvents({count: 200, from: '2024-03-01', seed: 3, to: '2024-03-04'})
const inRange = (from: string, to: string) =>
  lines.filter((line) => {
    const day = /"event_time":"(\d{4}-\d\d-\d\d)/.exec(line)![1]
    return day >= from && day <= to
  })

describe('the Parquet sink syncing into a bucket (its day writer)', () => {
  let s3: FakeS3
  let data: Awaited<ReturnType<typeof temporaryDirectory>>
  let sink: Sink

  useFakeS3((started) => {
    s3 = started
  })

  before(async () => {
    data = await temporaryDirectory()
    sink = (await loadParquetSink())()
  })

  after(async () => data.remove())

  const sinkContext = (storage: ObjectStorage = objectStorage()): SinkContext => ({
    dataDir: data.path,
    objectStorage: storage,
    signal: new AbortController().signal,
    warn() {},
  })
  const chunk = (from: string, to: string): DaysTarget => ({
    ...target({mode: 'append', options: {dir: 's3://lake/days'}}),
    dateRange: {from, to},
    days: {from, to},
    sync: {filters: {events: [], where: null}, from: '2024-03-01', today: '2024-03-10'},
  })
  const commitChunk = async (from: string, to: string, storage?: ObjectStorage) => {
    const writer = await sink.days!.replaceDays(chunk(from, to), sinkContext(storage))
    await writer.write(recordBatch('events', 'normalized', inRange(from, to)))
    return writer.commit()
  }

  it('marks the days it refreshes as in progress before publishing: a run that dies midway leaves them to fetch again', async () => {
    expect((await commitChunk('2024-03-01', '2024-03-04')).written).to.equal(lines.length)
    const state = await sink.days!.state(chunk('2024-03-01', '2024-03-04'), sinkContext())
    expect(state.exists).to.equal(true)
    expect(state.days.map((day) => [day.day, day.inProgress])).to.deep.equal([
      ['2024-03-01', false],
      ['2024-03-02', false],
      ['2024-03-03', false],
      ['2024-03-04', false],
    ])
    const keys = await s3.keys()

    // The publish dies after its copies began (a lost machine): nothing records the new days.
    const dying: ObjectStorage = {
      ...objectStorage(),
      async publishDirectory() {
        throw new Error('killed while copying')
      },
    }
    let failure: unknown
    try {
      await commitChunk('2024-03-03', '2024-03-04', dying)
    } catch (error) {
      failure = error
    }

    expect((failure as Error).message).to.equal('killed while copying')
    const marked = await sink.days!.state(chunk('2024-03-01', '2024-03-04'), sinkContext())
    expect(marked.days.map((day) => [day.day, day.inProgress])).to.deep.equal([
      ['2024-03-01', false],
      ['2024-03-02', false],
      ['2024-03-03', true],
      ['2024-03-04', true],
    ])
    expect(marked.days.map((day) => day.rows)).to.deep.equal(state.days.map((day) => day.rows))
    expect(await s3.keys()).to.deep.equal(keys)

    // The next commit of those days records them again, whole.
    await commitChunk('2024-03-03', '2024-03-04')
    const again = await sink.days!.state(chunk('2024-03-01', '2024-03-04'), sinkContext())
    expect(again.days.every((day) => !day.inProgress)).to.equal(true)
    expect(again.days.map((day) => day.rows)).to.deep.equal(state.days.map((day) => day.rows))
  })
})
