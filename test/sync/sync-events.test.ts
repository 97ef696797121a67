import {Config} from '@oclif/core'
import {expect} from 'chai'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {Progress} from '../../src/output/progress.js'
import {syncEvents} from '../../src/sync/sync-events.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {setEnvironment, temporaryDirectory} from '../support/temporary.js'

const ACCOUNT = {secret: 'sync-secret', username: 'sync'}
const root = fileURLToPath(new URL('../..', import.meta.url))

describe('syncEvents pacing', function () {
  this.timeout(60_000)
  let server: FakeMixpanel
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let restore: () => void

  before(async () => {
    server = await startFakeMixpanel({
      auth: ACCOUNT,
      events: generateEvents({count: 200, from: '2024-01-01', seed: 3, to: '2024-03-01'}),
    })
    directory = await temporaryDirectory()
    restore = setEnvironment({MPX_API_URL: server.url, MPX_NOW: '2024-03-10T12:00:00Z'})
  })

  after(async () => {
    restore()
    await server.close()
    await directory.remove()
  })

  it('a plan of more than 60 requests keeps within 60 an hour, saying when the next one goes', async () => {
    let stderr = ''
    const stream = new PassThrough()
    stream.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    // Virtual time: the pacer's waits (a second, an hour) pass at once, and are counted.
    let now = 0
    const waits: number[] = []
    const clock = {
      now: () => now,
      async sleep(ms: number) {
        waits.push(ms)
        now += ms
      },
    }
    const progress = await Progress.start({
      noun: 'events',
      quiet: false,
      stream: stream as unknown as NodeJS.WriteStream,
    })
    const result = await syncEvents({
      account: {credentials: {kind: 'service-account', projectId: '7', ...ACCOUNT}, region: 'us', source: 'test'},
      chunkDays: 1,
      clock,
      config: await Config.load({ignoreManifest: true, root}),
      dataDir: directory.path,
      db: join(directory.path, 'paced.duckdb'),
      dedupe: true,
      from: '2024-01-01',
      insecure: false,
      lookbackDays: 0,
      progress,
      sinkName: 'duckdb',
      sinkOptions: [],
      table: 'events',
      to: '2024-03-01',
    })
    expect(result.plan.chunks).to.have.length(61)
    expect(result.days).to.equal(61)
    expect(stderr).to.include("61 requests, paced at Mixpanel's 60 an hour")
    expect(stderr).to.match(/Pacing: next request at \d\d:\d\d UTC \(Mixpanel allows 60 export requests an hour\)/)
    // The 61st request waited for the hour since the first.
    expect(Math.max(...waits)).to.be.greaterThan(3_500_000)
    expect(server.requests.filter((request) => request.endpoint === 'export')).to.have.length(61)
  })
})
