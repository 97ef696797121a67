import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {openDatabase} from '../../src/duckdb/database.js'
import {othersWaiting, waitingDirectory} from '../../src/duckdb/waiting.js'
import {temporaryDirectory} from '../support/temporary.js'

/** Another process holding `path` read-write until it is told to let go (a line on its stdin). */
async function holder(path: string): Promise<{release(): Promise<void>}> {
  const script = `
    import {DuckDBInstance} from '@duckdb/node-api'
    const instance = await DuckDBInstance.create(${JSON.stringify(path)})
    const connection = await instance.connect()
    await connection.run('CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x')
    process.stdout.write('held\\n')
    process.stdin.once('data', () => { connection.closeSync(); instance.closeSync(); process.exit(0) })
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['pipe', 'pipe', 'inherit']})
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)))
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
  })
  return {
    async release() {
      child.stdin.write('go\n')
      await exited
    },
  }
}

describe('opening a database another process holds', function () {
  this.timeout(30_000)
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>

  before(async () => {
    directory = await temporaryDirectory()
  })

  after(async () => directory.remove())

  it('fails at once by default, naming the holder', async () => {
    const path = join(directory.path, 'held.duckdb')
    const held = await holder(path)
    try {
      let failure: unknown
      try {
        await openDatabase(path, {readOnly: true})
      } catch (error) {
        failure = error
      }

      expect(String(failure)).to.match(/is in use by another process \(PID \d+\)/)
    } finally {
      await held.release()
    }
  })

  it('with lockWaitMs, waits for the holder to let go, saying so once', async () => {
    const path = join(directory.path, 'waited.duckdb')
    const held = await holder(path)
    const notes: string[] = []
    const opening = openDatabase(path, {lockWaitMs: 20_000, onLockWait: (note) => notes.push(note), readOnly: true})
    // The note comes as soon as the first attempt fails; the holder then lets go.
    while (notes.length === 0) await sleep(20)
    // Meanwhile a mark beside the file says who waits, so that a sync holding it lets go.
    expect(await readdir(waitingDirectory(path))).to.deep.equal([String(process.pid)])
    await held.release()
    const database = await opening
    try {
      const reader = await database.connection.runAndReadAll('SELECT x FROM t')
      expect(reader.getRows()).to.deep.equal([[1]])
    } finally {
      database.close()
    }

    expect(notes).to.have.length(1)
    expect(notes[0]).to.match(/in use by another process \(PID \d+\).*waiting up to 20 s/)
    expect(existsSync(waitingDirectory(path)), 'the mark is gone once the file is open').to.equal(false)
  })

  it('keeps the opens of this process apart as DuckDB keeps processes apart: a second open waits for the writer', async () => {
    const path = join(directory.path, 'here.duckdb')
    const writer = await openDatabase(path, {create: true})
    await writer.connection.run('CREATE TABLE t AS SELECT 2 AS x')
    try {
      let failure: unknown
      await openDatabase(path, {readOnly: true}).catch((error: unknown) => {
        failure = error
      })
      expect(String(failure)).to.match(/is in use in this process/)
      const notes: string[] = []
      const opening = openDatabase(path, {lockWaitMs: 20_000, onLockWait: (note) => notes.push(note), readOnly: true})
      while (notes.length === 0) await sleep(20)
      expect(await othersWaiting(path), 'a sync holding the file sees the wait').to.equal(true)
      writer.close()
      const reader = await opening
      try {
        expect((await reader.connection.runAndReadAll('SELECT x FROM t')).getRows()).to.deep.equal([[2]])
        // Readers together are fine.
        const another = await openDatabase(path, {readOnly: true})
        another.close()
      } finally {
        reader.close()
      }

      expect(await othersWaiting(path)).to.equal(false)
    } finally {
      writer.close()
    }
  })

  it('does not count the mark of a process killed while it waited, and removes it', async () => {
    const path = join(directory.path, 'stale.duckdb')
    const gone = spawn(process.execPath, ['-e', ''])
    await new Promise((resolve) => {
      gone.once('exit', resolve)
    })
    await mkdir(waitingDirectory(path), {recursive: true})
    await writeFile(join(waitingDirectory(path), String(gone.pid)), '')
    expect(await othersWaiting(path)).to.equal(false)
    expect(await readdir(waitingDirectory(path))).to.deep.equal([])
  })
})
