import {expect} from 'chai'

import {ObjectStore} from '../../src/object-storage/client.js'
import {type FakeS3} from '../support/fake-s3.js'
import {useFakeS3} from '../support/hooks.js'

describe('object storage: copies', () => {
  let s3: FakeS3

  useFakeS3((started) => {
    s3 = started
  })

  it('copies an object larger than CopyObject takes in parts (UploadPartCopy), byte for byte', async () => {
    const content = Buffer.alloc(12 * 1024 * 1024)
    // ASCII letters in a pattern that differs at every part boundary: a misplaced range would show.
    for (let index = 0; index < content.length; index++)
      content[index] = 65 + ((index * 7 + Math.floor(index / 1_048_576)) % 26)
    await s3.put('big/source.bin', content.toString('ascii'))
    // Limits made small: 5 MB parts (S3's minimum) above 1 MB.
    const store = new ObjectStore('lake', {}, {partBytes: 5 * 1024 * 1024, singleBytes: 1024 * 1024})
    try {
      await store.copy('big/source.bin', 'big/event_date=2024-01-01/copy.bin', content.length)
      await store.copy('big/source.bin', 'big/single.bin', 10)
    } finally {
      store.close()
    }

    const copied = await s3.read('big/event_date=2024-01-01/copy.bin')
    expect(copied.length).to.equal(content.length)
    expect(Buffer.from(copied, 'ascii').equals(content)).to.equal(true)
    expect(s3.requests.filter((request) => request.includes('x-id=UploadPartCopy'))).to.have.length(3)
    expect(s3.requests.filter((request) => request.includes('x-id=CopyObject'))).to.have.length(1)
  })
})
