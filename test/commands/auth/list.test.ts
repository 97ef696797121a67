import {expect} from 'chai'
import {chmod} from 'node:fs/promises'

import {addAccount} from '../../../src/config/accounts.js'
import {runMpx} from '../../support/cli.js'
import {useConfigFile} from '../../support/hooks.js'

const PROD_SECRET = 'prodSECRETvalue-0123456789'
const LEGACY_SECRET = 'legacySECRETvalue-987654'

describe('auth:list', () => {
  const {env} = useConfigFile('mpx-auth-list-')

  async function addTwo(): Promise<void> {
    await addAccount(
      env.MPX_CONFIG,
      {name: 'prod', projectId: '123', type: 'service-account', username: 'svc'},
      PROD_SECRET,
    )
    await addAccount(
      env.MPX_CONFIG,
      {name: 'legacy', region: 'eu', timezone: 'America/Los_Angeles', type: 'api-secret'},
      LEGACY_SECRET,
    )
  }

  it('shows a table with masked secrets and a * on the default; no secret in any output', async () => {
    await addTwo()
    const result = await runMpx(['auth:list'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout.split('\n')).to.deep.equal([
      '   NAME    TYPE             USERNAME  PROJECT  REGION  TIMEZONE             SECRET',
      '   legacy  api-secret       -         -        eu      America/Los_Angeles  le********54',
      '*  prod    service-account  svc       123      us      UTC                  pr********89',
      '',
    ])
    for (const secret of [PROD_SECRET, LEGACY_SECRET]) {
      expect(result.stdout).not.to.include(secret)
      expect(result.stderr).not.to.include(secret)
    }
  })

  it('--json gives the same, machine-readable and still masked', async () => {
    await addTwo()
    const result = await runMpx(['auth:list', '--json'], {env})
    expect(result.code).to.equal(0)
    expect(JSON.parse(result.stdout)).to.deep.equal({
      accounts: [
        {
          isDefault: false,
          name: 'legacy',
          region: 'eu',
          secret: 'le********54',
          timezone: 'America/Los_Angeles',
          type: 'api-secret',
        },
        {
          isDefault: true,
          name: 'prod',
          projectId: '123',
          region: 'us',
          secret: 'pr********89',
          timezone: 'UTC',
          type: 'service-account',
          username: 'svc',
        },
      ],
      configFile: env.MPX_CONFIG,
      defaultAccount: 'prod',
    })
    expect(result.stdout + result.stderr)
      .not.to.include(PROD_SECRET)
      .and.not.to.include(LEGACY_SECRET)
  })

  it('says how to add an account when there is none', async () => {
    const result = await runMpx(['auth:list'], {env})
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include(`No accounts in ${env.MPX_CONFIG}`).and.to.include('auth:add')
  })

  it('notes that credentials in the environment take precedence', async () => {
    await addTwo()
    const result = await runMpx(['auth:list'], {env: {...env, MP_API_SECRET: 'env-secret-value'}})
    expect(result.code).to.equal(0)
    expect(result.stderr).to.include('environment')
    expect(result.stdout + result.stderr).not.to.include('env-secret-value')
  })

  if (process.platform !== 'win32') {
    it('warns on stderr when the config file is readable by others', async () => {
      await addTwo()
      await chmod(env.MPX_CONFIG, 0o644)
      const result = await runMpx(['auth:list'], {env})
      expect(result.code).to.equal(0)
      // One line, whatever the width (oclif's own warnings wrap, continuing lines with ›).
      expect(result.stderr).to.match(/^Warning: [^\n›]+\n/)
      expect(result.stderr).to.include(
        `Warning: Config file ${env.MPX_CONFIG} is readable by other users: run chmod 600`,
      )
    })
  }

  it('names the file and the field of a broken config (exit 3)', async () => {
    await addTwo()
    const {writeFile} = await import('node:fs/promises')
    await writeFile(
      env.MPX_CONFIG,
      JSON.stringify({accounts: {prod: {region: 'mars', secret: PROD_SECRET, type: 'api-secret'}}}),
    )
    const result = await runMpx(['auth:list'], {env})
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include(env.MPX_CONFIG).and.to.include('accounts.prod.region must be one of us, eu, in')
    expect(result.stderr).not.to.include(PROD_SECRET)
  })

  it('refuses the account flags, which do not apply (exit 3)', async () => {
    const result = await runMpx(['auth:list', '--region', 'eu'], {env})
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('--region does not apply')
  })
})
