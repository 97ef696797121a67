import {expect} from 'chai'
import {readConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {readFile} from 'node:fs/promises'

import {addAccount} from '../../../src/config/accounts.js'
import {runMpx} from '../../support/cli.js'
import {useConfigFile} from '../../support/hooks.js'

describe('auth:remove', () => {
  const {env} = useConfigFile('mpx-auth-remove-', 'config.json', async (file) => {
    await addAccount(file, {name: 'prod', projectId: '1', type: 'service-account', username: 'svc'}, 'prod-secret')
    await addAccount(file, {name: 'old', type: 'api-secret'}, 'old-api-secret')
  })

  it('removes an account and its secret from the file', async () => {
    const result = await runMpx(['auth:remove', 'old'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('Removed account "old"\n')
    expect(result.stderr).to.equal('')
    expect(await readFile(env.MPX_CONFIG, 'utf8')).not.to.include('old-api-secret')
    expect(Object.keys((await readConfig(env.MPX_CONFIG)).accounts)).to.deep.equal(['prod'])
  })

  it('says when the default account went, and leaves no default', async () => {
    const result = await runMpx(['auth:remove', 'prod'], {env})
    expect(result.code).to.equal(0)
    expect(result.stderr).to.include('no default account now').and.to.include('auth:use')
    expect((await readConfig(env.MPX_CONFIG)).defaultAccount).to.equal(undefined)

    const fetch = await runMpx(['auth:test'], {env})
    expect(fetch.code).to.equal(3)
    expect(fetch.stderr).to.include('No default account').and.to.include('mpx auth:use NAME')
  })

  it('fails with exit 4 for an unknown account', async () => {
    const result = await runMpx(['auth:remove', 'nope'], {env})
    expect(result.code).to.equal(4)
    expect(result.stderr).to.include('No account named "nope"')
    expect(Object.keys((await readConfig(env.MPX_CONFIG)).accounts)).to.have.length(2)
  })
})
