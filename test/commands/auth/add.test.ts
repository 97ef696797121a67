import {expect} from 'chai'
import {readConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {readFile, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

import {runMpx} from '../../support/cli.js'
import {useConfigFile} from '../../support/hooks.js'

/** Permission bits as octal text, e.g. `600`. */
async function permissions(path: string): Promise<string> {
  return ((await stat(path)).mode % 0o1000).toString(8)
}

const SECRET = 'Add-Secret-zz9876543210'

describe('auth:add', () => {
  const {env} = useConfigFile('mpx-auth-add-', 'mpx/config.json')

  it('saves a service account with the secret from stdin, 0600, and never prints the secret', async () => {
    const result = await runMpx(
      ['auth:add', 'prod', '--username', 'svc', '--project-id', '123', '--region', 'eu', '--secret-stdin'],
      {env, stdin: `${SECRET}\n`},
    )
    expect(result.stderr).to.equal('')
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include(
      'Added account "prod": service account, project 123, region eu (the default account)',
    )
    expect(result.stdout).not.to.include(SECRET)
    expect(await readConfig(env.MPX_CONFIG)).to.deep.equal({
      accounts: {prod: {projectId: '123', region: 'eu', secret: SECRET, type: 'service-account', username: 'svc'}},
      defaultAccount: 'prod',
    })
    if (process.platform !== 'win32') {
      expect(await permissions(env.MPX_CONFIG)).to.equal('600')
      expect(await permissions(dirname(env.MPX_CONFIG))).to.equal('700')
    }
  })

  it('saves a project API secret with --api-secret, and --default makes it the default', async () => {
    await runMpx(['auth:add', 'prod', '--username', 'svc', '--project-id', '1', '--secret-stdin'], {env, stdin: SECRET})
    const result = await runMpx(['auth:add', 'legacy', '--api-secret', '--default', '--secret-stdin'], {
      env,
      stdin: 'legacy-api-secret\n',
    })
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include('project API secret').and.to.include('(the default account)')
    const config = await readConfig(env.MPX_CONFIG)
    expect(config.accounts.legacy).to.deep.equal({secret: 'legacy-api-secret', type: 'api-secret'})
    expect(config.defaultAccount).to.equal('legacy')
  })

  it('refuses to replace an account without --force (exit 3), and replaces it with --force', async () => {
    const args = ['auth:add', 'prod', '--username', 'svc', '--project-id', '1', '--secret-stdin']
    await runMpx(args, {env, stdin: SECRET})
    const refused = await runMpx(args, {env, stdin: 'another-secret'})
    expect(refused.code).to.equal(3)
    expect(refused.stderr).to.include('"prod" already exists').and.to.include('--force')
    expect((await readConfig(env.MPX_CONFIG)).accounts.prod.secret).to.equal(SECRET)

    const forced = await runMpx([...args, '--force'], {env, stdin: 'another-secret'})
    expect(forced.code).to.equal(0)
    expect(forced.stdout).to.include('Replaced account "prod"')
    expect((await readConfig(env.MPX_CONFIG)).accounts.prod.secret).to.equal('another-secret')
  })

  it('has no flag that takes the secret as a value', async () => {
    for (const flag of ['--secret', '--api-secret-value', '--password']) {
      const result = await runMpx(['auth:add', 'prod', '--username', 'svc', '--project-id', '1', flag, SECRET], {env})
      expect(result.code, flag).to.equal(3)
      expect(result.stderr).to.include('Nonexistent flag')
    }

    expect(await readFile(env.MPX_CONFIG, 'utf8').catch(() => 'none')).to.equal('none')
  })

  it('without --secret-stdin and without a terminal, says how to give the secret (exit 3)', async () => {
    const result = await runMpx(['auth:add', 'prod', '--username', 'svc', '--project-id', '1'], {env, stdin: SECRET})
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('--secret-stdin')
    expect(result.stderr).not.to.include(SECRET)
  })

  it('saves the project timezone given with --timezone, spelled as the IANA database does', async () => {
    const result = await runMpx(
      ['auth:add', 'west', '--api-secret', '--timezone', 'america/los_angeles', '--secret-stdin'],
      {env, stdin: SECRET},
    )
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include('region us, timezone America/Los_Angeles')
    const config = await readConfig(env.MPX_CONFIG)
    expect(config.accounts.west).to.deep.equal({secret: SECRET, timezone: 'America/Los_Angeles', type: 'api-secret'})
  })

  it('checks the flags before reading the secret, with messages that name the flag (exit 3)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['auth:add', 'prod', '--project-id', '1', '--secret-stdin'], /needs --username/],
      [
        ['auth:add', 'prod', '--username', 'svc', '--project-id', 'abc', '--secret-stdin'],
        /--project-id must be a number/,
      ],
      [['auth:add', 'bad name', '--api-secret', '--secret-stdin'], /"bad name" is not a valid account name/],
      [['auth:add', 'x', '--api-secret', '--username', 'svc', '--secret-stdin'], /--username is for service accounts/],
      [['auth:add', 'x', '--api-secret', '--account', 'y', '--secret-stdin'], /--account does not apply/],
      [['auth:add', 'x', '--api-secret', '--region', 'mars', '--secret-stdin'], /--region/],
      [
        ['auth:add', 'x', '--api-secret', '--timezone', 'Mars/Olympus', '--secret-stdin'],
        /Unknown timezone "Mars\/Olympus" in --timezone/,
      ],
    ]
    for (const [args, message] of cases) {
      const result = await runMpx(args, {env, stdin: SECRET})
      expect(result.code, args.join(' ')).to.equal(3)
      expect(result.stderr).to.match(message)
      expect(result.stderr + result.stdout).not.to.include(SECRET)
    }
  })

  it('refuses a secret with a line break inside (two lines piped) without echoing it', async () => {
    const result = await runMpx(['auth:add', 'legacy', '--api-secret', '--secret-stdin'], {
      env,
      stdin: `${SECRET}\nsecond-line\n`,
    })
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('The secret must be one line without blanks')
    expect(result.stderr).not.to.include(SECRET)
  })
})
