import {expect} from 'chai'
import {readConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'

import {addAccount} from '../../../src/config/accounts.js'
import {runMpx} from '../../support/cli.js'
import {useConfigFile} from '../../support/hooks.js'

describe('auth:use', () => {
  const {env} = useConfigFile('mpx-auth-use-', 'config.json', async (file) => {
    await addAccount(file, {name: 'prod', projectId: '1', type: 'service-account', username: 'svc'}, 'prod-secret')
    await addAccount(
      file,
      {name: 'staging', projectId: '2', type: 'service-account', username: 'svc'},
      'staging-secret',
    )
  })

  it('makes an account the default', async () => {
    const result = await runMpx(['auth:use', 'staging'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.equal('Default account: "staging"\n')
    expect((await readConfig(env.MPX_CONFIG)).defaultAccount).to.equal('staging')
  })

  it('fails with exit 4 for an unknown account and changes nothing', async () => {
    const result = await runMpx(['auth:use', 'nope'], {env})
    expect(result.code).to.equal(4)
    expect(result.stderr).to.include('No account named "nope"').and.to.include('prod, staging')
    expect((await readConfig(env.MPX_CONFIG)).defaultAccount).to.equal('prod')
  })

  it('needs NAME (exit 3)', async () => {
    const result = await runMpx(['auth:use'], {env})
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('NAME')
  })
})
