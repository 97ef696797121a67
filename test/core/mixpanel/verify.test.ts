import type {Credentials} from 'mpx-mixpanel-core/internal/mixpanel/credentials.js'

import {expect} from 'chai'
import {AuthError, MpxError, RateLimitError} from 'mpx-mixpanel-core/internal/errors.js'
import {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import {verifyCredentials} from 'mpx-mixpanel-core/internal/mixpanel/verify.js'

import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'
import {generateEvents} from '../../support/generate.js'
import {rejection} from '../../support/rejection.js'

const SECRET = 'verify-Secret-123456'
const serviceAccount: Credentials = {kind: 'service-account', projectId: '42', secret: SECRET, username: 'svc'}
const now = new Date('2024-03-02T08:00:00Z')

describe('verifyCredentials', () => {
  let server: FakeMixpanel

  const client = (credentials: Credentials = serviceAccount, apiUrl = server.url) =>
    new MixpanelClient({apiUrl, credentials, retry: {attempts: 1}})

  before(async () => {
    const events = generateEvents({count: 500, from: '2024-03-01', seed: 5, to: '2024-03-01'})
    server = await startFakeMixpanel({auth: {secret: SECRET, username: 'svc'}, events})
  })

  after(async () => server.close())

  beforeEach(() => server.reset())

  it('makes one export request for yesterday with limit=1 and the project id', async () => {
    await verifyCredentials(client(), now)
    expect(server.requests).to.have.length(1)
    const [request] = server.requests
    expect(request.endpoint).to.equal('export')
    expect(request.query).to.deep.equal({from_date: '2024-03-01', limit: '1', project_id: '42', to_date: '2024-03-01'})
    expect(request.headers.authorization).to.equal(`Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}`)
  })

  it('accepts an empty day', async () => {
    await verifyCredentials(client(), new Date('2023-01-02T00:00:00Z'))
  })

  it('raises AuthError for 401', async () => {
    const error = await rejection(verifyCredentials(client({...serviceAccount, secret: 'wrong'}), now))
    expect(error).to.be.instanceOf(AuthError)
    expect(error.message).to.include('401')
  })

  it('raises AuthError for 400 Unable to authenticate request', async () => {
    server.fail('export', {body: JSON.stringify({error: 'Unable to authenticate request'}), status: 400})
    const error = await rejection(verifyCredentials(client(), now))
    expect(error).to.be.instanceOf(AuthError)
    expect(error.message).to.include('Unable to authenticate request')
  })

  it('raises RateLimitError for a 429 without retrying, saying the credentials were not checked', async () => {
    server.fail('export', {retryAfter: 1, status: 429})
    const error = await rejection(verifyCredentials(client(), now))
    expect(error).to.be.instanceOf(RateLimitError)
    expect(error.message).to.include('Could not check the credentials')
    expect(server.requests).to.have.length(1)
  })

  it('fails when the server cannot be reached', async () => {
    const error = await rejection(verifyCredentials(client(serviceAccount, 'http://127.0.0.1:1'), now))
    expect(error).to.be.instanceOf(MpxError)
    expect(error.message).to.include('Could not check the credentials')
  })

  it('fails when a 200 answer is not export data (a proxy login page, say)', async () => {
    const {createServer} = await import('node:http')
    const proxy = createServer((_request, response) => {
      response.writeHead(200, {'content-type': 'text/html'})
      response.end('<html>Please log in</html>\n')
    })
    await new Promise<void>((resolve) => {
      proxy.listen(0, '127.0.0.1', resolve)
    })
    try {
      const address = proxy.address()
      const port = typeof address === 'object' && address ? address.port : 0
      const error = await rejection(verifyCredentials(client(serviceAccount, `http://127.0.0.1:${port}`), now))
      expect(error).to.be.instanceOf(MpxError)
      expect(error.message).to.include('did not answer with export data').and.to.include('<html>')
    } finally {
      proxy.close()
    }
  })
})
