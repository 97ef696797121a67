import {expect} from 'chai'
import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {objectStorage} from '../../src/object-storage/index.js'
import {stagingPrefix} from '../../src/object-storage/publish.js'
import {type FakeS3} from '../support/fake-s3.js'
import {useFakeS3} from '../support/hooks.js'
import {rejection} from '../support/rejection.js'
import {temporaryDirectory} from '../support/temporary.js'

/** A local directory holding these files (path → content). */
async function directoryOf(root: string, files: Record<string, Buffer | string>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), {recursive: true})
    await writeFile(join(root, path), content)
  }

  return root
}

describe('object storage: publishing a directory', () => {
  let s3: FakeS3
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let counter = 0
  const storage = objectStorage()
  const local = (files: Record<string, Buffer | string>) => directoryOf(join(directory.path, `d${counter++}`), files)
  const keysUnder = async (prefix: string) => (await s3.keys()).filter((key) => key.startsWith(prefix))

  useFakeS3((started) => {
    s3 = started
  })

  before(async () => {
    directory = await temporaryDirectory()
  })

  after(async () => directory.remove())

  it('stages beside the destination, outside it', () => {
    expect(stagingPrefix('lake/events/', 'ID')).to.equal('lake/.mpx-staging/events-ID/')
    expect(stagingPrefix('events', 'ID')).to.equal('.mpx-staging/events-ID/')
  })

  it('replaces only the partitions asked for, once the new files are in place, and writes _SUCCESS', async () => {
    for (const key of ['t1/events/day=1/old.parquet', 't1/events/day=2/old.parquet', 't1/events/day=3/old.parquet']) {
      await s3.put(key, 'old')
    }

    const source = await local({'day=2/new.parquet': 'new2', 'day=4/new.parquet': 'new4'})
    const result = await storage.publishDirectory({
      destination: 's3://lake/t1/events',
      mode: 'replace',
      replace: ['day=1', 'day=2'],
      source,
    })
    expect(result).to.deep.equal({published: 2, removed: 2, url: 's3://lake/t1/events/'})
    expect(await keysUnder('t1/')).to.deep.equal([
      't1/events/_SUCCESS',
      't1/events/day=2/new.parquet',
      't1/events/day=3/old.parquet',
      't1/events/day=4/new.parquet',
    ])
    expect(await s3.read('t1/events/day=2/new.parquet')).to.equal('new2')
    expect(await keysUnder('t1/.mpx-staging')).to.deep.equal([])
    expect(await storage.hasObjects('s3://lake/t1/events')).to.equal(true)
    expect(await storage.hasObjects('s3://lake/t1/event')).to.equal(false)
  })

  it('create refuses a destination that holds objects; add refuses a name that is taken', async () => {
    await s3.put('t2/events/a.parquet', 'old')
    const source = await local({'a.parquet': 'new'})
    const create = storage.publishDirectory({destination: 's3://lake/t2/events', mode: 'create', source})
    expect((await rejection(create)).message).to.match(/s3:\/\/lake\/t2\/events\/ already holds 1 objects/)
    const add = storage.publishDirectory({destination: 's3://lake/t2/events', mode: 'add', source})
    expect((await rejection(add)).message).to.match(/s3:\/\/lake\/t2\/events\/a\.parquet already exists/)
    expect(await keysUnder('t2/')).to.deep.equal(['t2/events/a.parquet'])
    expect(await s3.read('t2/events/a.parquet')).to.equal('old')
  })

  it('an abort while uploading leaves the destination as it was: no staging, no multipart upload', async () => {
    await s3.put('t3/events/day=1/old.parquet', 'old')
    // 20 MB: a multipart upload of three parts, in flight when the abort comes.
    const source = await local({'day=1/big.parquet': Buffer.alloc(20 * 1024 * 1024, 7), 'day=1/small.parquet': 'x'})
    const controller = new AbortController()
    const publishing = storage.publishDirectory({
      destination: 's3://lake/t3/events',
      mode: 'replace',
      replace: [''],
      signal: controller.signal,
      source,
    })
    while (!s3.requests.some((request) => request.includes('big.parquet?partNumber=1'))) await sleep(20)
    controller.abort()
    expect((await rejection(publishing)).name).to.equal('AbortError')
    expect(await keysUnder('t3/')).to.deep.equal(['t3/events/day=1/old.parquet'])
    expect(await s3.openUploads()).to.deep.equal([])
  })

  it('removes what killed runs staged more than a day ago, and nothing younger', async () => {
    const old = 't4/.mpx-staging/events-20200101T000000Z-123-abcdef/day=1/a.parquet'
    const young = `t4/.mpx-staging/events-${new Date()
      .toISOString()
      .replaceAll(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-456-ghijkl/a.parquet`
    const otherTable = 't4/.mpx-staging/events_eu-20200101T000000Z-123-abcdef/a.parquet'
    for (const key of [old, young, otherTable]) await s3.put(key, 'x')
    const source = await local({'day=1/b.parquet': 'b'})
    await storage.publishDirectory({destination: 's3://lake/t4/events', mode: 'create', source})
    expect(await keysUnder('t4/')).to.deep.equal(
      [otherTable, young, 't4/events/_SUCCESS', 't4/events/day=1/b.parquet'].sort(),
    )
  })

  it('a missing bucket is a not-found error naming it', async () => {
    const source = await local({'a.parquet': 'x'})
    const publishing = storage.publishDirectory({destination: 's3://no-such-bucket/t', mode: 'create', source})
    expect(await rejection(publishing)).to.have.property('exitCode', ExitCode.NotFound)
  })
})
