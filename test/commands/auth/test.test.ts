import {expect} from 'chai'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {addAccount} from '../../../src/config/accounts.js'
import {runMpx} from '../../support/cli.js'
import {type FakeMixpanel, startFakeMixpanel} from '../../support/fake-mixpanel.js'

const SECRET = 'Test-Secret-abcdef123456'
const API_SECRET = 'Api-Secret-fedcba654321'

describe('auth:test', () => {
  let dir: string
  let server: FakeMixpanel
  let legacyServer: FakeMixpanel
  let env: Record<string, string>

  before(async () => {
    server = await startFakeMixpanel({auth: {secret: SECRET, username: 'svc'}})
    legacyServer = await startFakeMixpanel({auth: {apiSecret: API_SECRET}})
  })

  after(async () => {
    await server.close()
    await legacyServer.close()
  })

  beforeEach(async () => {
    server.reset()
    dir = await mkdtemp(join(tmpdir(), 'mpx-auth-test-'))
    env = {MPX_API_URL: server.url, MPX_CONFIG: join(dir, 'config.json')}
    await addAccount(env.MPX_CONFIG, {name: 'prod', projectId: '42', type: 'service-account', username: 'svc'}, SECRET)
    await addAccount(
      env.MPX_CONFIG,
      {name: 'wrong', projectId: '42', region: 'eu', type: 'service-account', username: 'svc'},
      'nope-nope-nope',
    )
  })

  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  function expectNoSecret(result: {stderr: string; stdout: string}): void {
    expect(result.stdout + result.stderr)
      .not.to.include(SECRET)
      .and.not.to.include(API_SECRET)
  }

  it('says OK for the default account after one export request with limit=1', async () => {
    const result = await runMpx(['auth:test'], {env})
    expect(result.stderr).to.equal('')
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('OK: account "prod", project 42, region us\n')
    expect(server.requests).to.have.length(1)
    expect(server.requests[0].path).to.equal('/api/2.0/export')
    expect(server.requests[0].query).to.include({limit: '1', project_id: '42'})
    expect(server.requests[0].query.from_date).to.equal(server.requests[0].query.to_date)
  })

  it('says where credentials from the environment came from', async () => {
    const result = await runMpx(['auth:test', '--region', 'in'], {
      env: {...env, MP_PROJECT_ID: '7', MP_SECRET: SECRET, MP_USERNAME: 'svc'},
    })
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('OK: environment, project 7, region in\n')
    expectNoSecret(result)
  })

  it('checks a project API secret', async () => {
    const result = await runMpx(['auth:test'], {
      env: {...env, MP_API_SECRET: API_SECRET, MPX_API_URL: legacyServer.url},
    })
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('OK: environment, project of the API secret, region us\n')
  })

  it('fails with exit 2 when Mixpanel answers 401', async () => {
    const result = await runMpx(['auth:test', '--account', 'wrong'], {env})
    expect(result.code).to.equal(2)
    expect(result.stdout).to.equal('')
    expect(result.stderr).to.include('rejected the credentials').and.to.include('401')
    expectNoSecret(result)
  })

  it('fails with exit 2 when Mixpanel answers 400 Unable to authenticate request', async () => {
    server.fail('export', {body: JSON.stringify({error: 'Unable to authenticate request'}), status: 400})
    const result = await runMpx(['auth:test'], {env})
    expect(result.code).to.equal(2)
    expect(result.stderr).to.include('Unable to authenticate request')
    expectNoSecret(result)
  })

  it('fails with exit 5 when rate-limited, after a single request', async () => {
    server.fail('export', {retryAfter: 30, status: 429})
    const result = await runMpx(['auth:test'], {env})
    expect(result.code).to.equal(5)
    expect(result.stderr).to.include('Could not check the credentials')
    expect(server.requests).to.have.length(1)
  })

  it('fails with exit 4 for an unknown --account', async () => {
    const result = await runMpx(['auth:test', '--account', 'nope'], {env})
    expect(result.code).to.equal(4)
    expect(server.requests).to.have.length(0)
  })
})
