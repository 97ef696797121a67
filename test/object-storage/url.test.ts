import {expect} from 'chai'
import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'

import {asPrefix, formatObjectUrl, isObjectUrl, parseObjectUrl} from '../../src/object-storage/url.js'

describe('s3:// URLs', () => {
  it('parse into a bucket and a key', () => {
    expect(parseObjectUrl('s3://lake/raw/events.jsonl')).to.deep.equal({bucket: 'lake', key: 'raw/events.jsonl'})
    expect(parseObjectUrl('s3://my.bucket-1')).to.deep.equal({bucket: 'my.bucket-1', key: ''})
    expect(parseObjectUrl('S3://lake//a/b/')).to.deep.equal({bucket: 'lake', key: 'a/b/'})
    expect(formatObjectUrl('lake', 'a/b')).to.equal('s3://lake/a/b')
    expect(isObjectUrl('./s3://x')).to.equal(false)
    expect(asPrefix('a/b//')).to.equal('a/b/')
    expect(asPrefix('')).to.equal('')
  })

  it('refuse what is not a bucket name or holds . or .. (usage error)', () => {
    for (const url of ['s3://', 's3://UPPER/key', 's3://a/key', 's3://lake/a/../b', 'file:///tmp/x']) {
      expect(() => parseObjectUrl(url), url)
        .to.throw()
        .with.property('exitCode', ExitCode.Usage)
    }
  })
})
