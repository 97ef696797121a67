import {expect} from 'chai'

import {clientConfig, configuredEndpoint} from '../../src/object-storage/client.js'

describe('object storage: the S3 client configuration', () => {
  it('AWS itself: the SDK default chain decides (virtual-hosted addressing, region from the environment or profile)', () => {
    const config = clientConfig({}, {})
    expect(config).to.deep.equal({followRegionRedirects: true})
  })

  it('a custom endpoint (option, or AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL): path style unless told otherwise', () => {
    expect(configuredEndpoint({}, {AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://s3'})).to.equal(
      'http://s3',
    )
    expect(configuredEndpoint({endpoint: 'http://option'}, {AWS_ENDPOINT_URL: 'http://a'})).to.equal('http://option')
    expect(
      configuredEndpoint({}, {AWS_ENDPOINT_URL: 'http://a', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true'}),
    ).to.equal(undefined)
    const config = clientConfig({}, {AWS_ENDPOINT_URL: 'https://account.r2.cloudflarestorage.com'})
    expect(config).to.include({
      endpoint: 'https://account.r2.cloudflarestorage.com',
      forcePathStyle: true,
      region: 'us-east-1',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    const virtualHosted = clientConfig(
      {endpoint: 'https://storage.googleapis.com', pathStyle: false},
      {AWS_REGION: 'auto'},
    )
    expect(virtualHosted).to.include({forcePathStyle: false})
    expect(virtualHosted).to.not.have.property('region')
  })
})
