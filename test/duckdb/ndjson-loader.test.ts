import type {DuckDBConnection} from '@duckdb/node-api'

import {expect} from 'chai'
import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {schemas} from 'mpx-mixpanel-core/internal/records/schemas.js'
import {readFileSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {setImmediate} from 'node:timers/promises'

import {FIRST_FILE_BYTES, NdjsonLoader, QUEUED_FILES} from '../../src/duckdb/ndjson-loader.js'
import {recordBatch} from '../../src/fetch/batch.js'
import {setEnvironment, temporaryDirectory} from '../support/temporary.js'

const batchOf = (lines: string[]) => recordBatch('events', 'normalized', lines)

/** One INSERT the loader ran: what its file held when it started, and how to end it. */
interface Load {
  readonly bytes: number
  fail(error: Error): void
  finish(): void
  readonly lines: string[]
}

/** Stands in for DuckDB: each load waits until the test ends it, so the test sees the queue. */
class FakeConnection {
  /** Ends every load as soon as it starts. */
  autoFinish = false
  interrupts = 0
  readonly loads: Load[] = []
  /** Loads started and not yet ended. */
  running = 0
  /** Every statement run, loads as `load <first event name>`. */
  readonly statements: string[] = []

  interrupt(): void {
    this.interrupts++
  }

  async run(sql: string): Promise<void> {
    if (sql.startsWith('SET ')) {
      this.statements.push(sql)
      return
    }

    const path = /read_json\('([^']+)'/.exec(sql)?.[1]
    if (!path) throw new Error(`not a load: ${sql}`)
    const text = readFileSync(path, 'utf8')
    this.statements.push(`load ${JSON.parse(text.slice(0, text.indexOf('\n'))).event_name}`)
    this.running++
    try {
      await new Promise<void>((resolve, reject) => {
        this.loads.push({
          bytes: Buffer.byteLength(text),
          fail: reject,
          finish: resolve,
          lines: text.split('\n').filter(Boolean),
        })
        if (this.autoFinish) resolve()
      })
    } finally {
      this.running--
    }
  }
}

/** Settles what can settle now: the loader's promise chains and file calls. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await setImmediate()
}

/** Waits until the loader's asynchronous steps (file removals among them) have brought about `condition`. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await setImmediate()
}

/** A line of about `bytes` bytes, told apart by its number. */
const line = (n: number, bytes = 100): string => JSON.stringify({event_name: `e${n}`, pad: 'x'.repeat(bytes - 30)})

describe('NdjsonLoader', () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let connection: FakeConnection
  let restoreEnvironment: () => void

  const loader = (fileBytes?: number, threadsOnceFetched?: number) =>
    new NdjsonLoader({
      connection: connection as unknown as DuckDBConnection,
      fileBytes,
      schema: schemas.events,
      table: 'events',
      threadsOnceFetched,
    })

  const loadFiles = async () => (await readdir(directory.path)).filter((name) => name.startsWith('mpx-load-'))

  beforeEach(async () => {
    directory = await temporaryDirectory()
    restoreEnvironment = setEnvironment({TMPDIR: directory.path})
    connection = new FakeConnection()
  })

  afterEach(async () => {
    restoreEnvironment()
    await directory.remove()
  })

  it('queues full files while a load runs instead of stalling the fetch, and loads them one at a time, in order', async () => {
    const ndjson = loader(1000)
    // Each batch fills a file: the first load starts, and QUEUED_FILES - 1 more files queue behind it.
    for (let n = 0; n < QUEUED_FILES; n++) await ndjson.add(batchOf([line(n, 1100)]))
    await settle()
    expect(connection.loads).to.have.length(1)
    expect(connection.running).to.equal(1)

    // One more full file is one too many: the fetch waits until the first load is done.
    let added = false
    const adding = ndjson.add(batchOf([line(QUEUED_FILES, 1100)])).then(() => {
      added = true
    })
    await settle()
    expect(added).to.equal(false)
    connection.loads[0].finish()
    await adding
    expect(added).to.equal(true)

    await ndjson.add(batchOf([line(QUEUED_FILES + 1)]))
    const finishing = ndjson.finish()
    for (let done = 1; done < QUEUED_FILES + 2; done++) {
      await until(() => connection.loads.length === done + 1)
      expect(connection.running).to.equal(1)
      connection.loads[done].finish()
    }

    await finishing
    expect(connection.loads.flatMap((load) => load.lines.map((text) => JSON.parse(text).event_name))).to.deep.equal(
      Array.from({length: QUEUED_FILES + 2}, (_, n) => `e${n}`),
    )
    expect(await loadFiles()).to.deep.equal([])
  })

  it('starts with a small file and doubles it up to the full size, so DuckDB starts early', async () => {
    connection.autoFinish = true
    const ndjson = loader()
    const batch = batchOf(Array.from({length: 1024}, (_, n) => line(n, 256)))
    for (let n = 0; n < 64; n++) await ndjson.add(batch)
    await ndjson.finish()
    const batchBytes = 1024 * 256
    const sizes = connection.loads.slice(0, 3).map((load) => load.bytes)
    for (const [k, size] of sizes.entries()) {
      expect(size).to.be.at.least(FIRST_FILE_BYTES * 2 ** k)
      expect(size).to.be.below(FIRST_FILE_BYTES * 2 ** k + batchBytes)
    }
  })

  it('once every record has arrived, gives DuckDB its threads for the loads still queued', async () => {
    const ndjson = loader(1000, 8)
    for (let n = 0; n < 3; n++) await ndjson.add(batchOf([line(n, 1100)]))
    await ndjson.add(batchOf([line(3)]))
    await settle()
    const finishing = ndjson.finish()
    for (let done = 0; done < 4; done++) {
      await until(() => connection.loads.length === done + 1)
      connection.loads[done].finish()
    }

    await finishing
    expect(connection.statements).to.deep.equal(['load e0', 'SET threads = 8', 'load e1', 'load e2', 'load e3'])
  })

  it('abort interrupts the running load, runs none of the queued ones and removes every file', async () => {
    const ndjson = loader(1000)
    for (let n = 0; n < QUEUED_FILES; n++) await ndjson.add(batchOf([line(n, 1100)]))
    await ndjson.add(batchOf([line(QUEUED_FILES)]))
    await settle()
    expect(await loadFiles()).to.have.length(1)

    const aborting = ndjson.abort()
    await settle()
    expect(connection.interrupts).to.equal(1)
    connection.loads[0].fail(new Error('INTERRUPT Error: Interrupted!'))
    await aborting
    expect(connection.loads).to.have.length(1)
    expect(await loadFiles()).to.deep.equal([])
  })

  it('with keepFiles: writes files before it has a connection, loads them once attached, and after a detach keeps every one for a load elsewhere', async () => {
    const ndjson = new NdjsonLoader({fileBytes: 1000, keepFiles: true, schema: schemas.events, table: 'events'})
    // No connection yet: full files wait, none is loaded, and the fetch never waits for DuckDB.
    for (let n = 0; n < QUEUED_FILES + 2; n++) await ndjson.add(batchOf([line(n, 1100)]))
    await settle()
    expect(connection.loads).to.have.length(0)
    expect(ndjson.keptFiles).to.have.length(QUEUED_FILES + 2)

    connection.autoFinish = true
    ndjson.attach(connection as unknown as DuckDBConnection)
    await until(() => connection.loads.length === QUEUED_FILES + 2)
    connection.autoFinish = false
    await ndjson.add(batchOf([line(QUEUED_FILES + 2, 1100)]))
    await until(() => connection.running === 1)

    // Given up (its transaction is rolled back): the running load is interrupted, and is no failure.
    const detaching = ndjson.detach()
    await settle()
    expect(connection.interrupts).to.equal(1)
    connection.loads.at(-1)!.fail(new Error('INTERRUPT Error: Interrupted!'))
    await detaching
    await ndjson.add(batchOf([line(QUEUED_FILES + 3)]))
    await ndjson.finish()
    expect(connection.loads).to.have.length(QUEUED_FILES + 3)
    const kept = ndjson.keptFiles.flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((text) => JSON.parse(text).event_name),
    )
    expect(kept).to.deep.equal(Array.from({length: QUEUED_FILES + 4}, (_, n) => `e${n}`))
    await ndjson.remove()
    expect(await loadFiles()).to.deep.equal([])
  })

  it('a failed load fails the next call with an mpx error, and the files queued behind it are not loaded', async () => {
    const ndjson = loader(1000)
    for (let n = 0; n < 3; n++) await ndjson.add(batchOf([line(n, 1100)]))
    await settle()
    connection.loads[0].fail(new Error('Constraint Error: NOT NULL constraint failed: events.event_time'))
    await settle()
    const error = await ndjson.add(batchOf([line(3)])).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(MpxError)
    expect((error as Error).message).to.equal(
      'DuckDB could not load the records: Constraint Error: NOT NULL constraint failed: events.event_time',
    )
    await ndjson.abort()
    expect(connection.loads).to.have.length(1)
    expect(await loadFiles()).to.deep.equal([])
  })
})
