import {expect} from 'chai'
import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'

import {objectStorage} from '../../src/object-storage/index.js'
import {type FakeS3} from '../support/fake-s3.js'
import {useFakeS3} from '../support/hooks.js'
import {rejection} from '../support/rejection.js'
import {setEnvironment} from '../support/temporary.js'

describe('object storage: small objects (a sync state file)', () => {
  let s3: FakeS3
  const storage = objectStorage()

  useFakeS3((started) => {
    s3 = started
  })

  it('reads nothing where there is no object, then what was written, then its replacement', async () => {
    expect(await storage.readObject('s3://lake/state/events.mpx-sync.json')).to.equal(undefined)
    await storage.writeObject('s3://lake/state/events.mpx-sync.json', '{"days":{}}\n')
    expect(await s3.read('state/events.mpx-sync.json')).to.equal('{"days":{}}\n')
    expect(await storage.readObject('s3://lake/state/events.mpx-sync.json')).to.equal('{"days":{}}\n')
    await storage.writeObject('s3://lake/state/events.mpx-sync.json', '{"days":{"2024-01-01":{}}}\n')
    expect(await storage.readObject('s3://lake/state/events.mpx-sync.json')).to.equal('{"days":{"2024-01-01":{}}}\n')
    // A key is not a prefix: nothing is read under it.
    expect(await storage.readObject('s3://lake/state/events.mpx-sync')).to.equal(undefined)
    expect(await s3.keys()).to.deep.equal(['state/events.mpx-sync.json'])
  })

  it('refuses a directory URL (exit 3), and says a missing bucket (exit 4) and denied credentials (exit 2) in one line', async () => {
    const directory = await rejection(storage.readObject('s3://lake/state/'))
    expect(directory.exitCode).to.equal(ExitCode.Usage)
    expect(directory.message).to.equal('s3://lake/state/ names a directory, not an object')
    expect((await rejection(storage.writeObject('s3://lake', '{}'))).exitCode).to.equal(ExitCode.Usage)

    const missing = await rejection(storage.readObject('s3://no-such-bucket/events.mpx-sync.json'))
    expect(missing.exitCode).to.equal(ExitCode.NotFound)
    expect(missing.message).to.match(
      /^Bucket no-such-bucket does not exist \(NoSuchBucket\) to read s3:\/\/no-such-bucket\/events\.mpx-sync\.json/,
    )
    const missingWrite = await rejection(storage.writeObject('s3://no-such-bucket/events.mpx-sync.json', '{}'))
    expect(missingWrite.exitCode).to.equal(ExitCode.NotFound)

    const denied = setEnvironment({AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1'})
    try {
      const refused = await rejection(storage.readObject('s3://lake/state/events.mpx-sync.json'))
      expect(refused.exitCode).to.equal(ExitCode.Auth)
      expect(refused.message).to.match(
        /^Object storage refused to read s3:\/\/lake\/state\/events\.mpx-sync\.json \(InvalidAccessKeyId\)/,
      )
      expect(refused.message).to.not.include('S3RVER')
      expect(refused.message.split('\n')).to.have.length(1)
    } finally {
      denied()
    }
  })
})
