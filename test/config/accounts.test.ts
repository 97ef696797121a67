import {expect} from 'chai'
import {readConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type AccountDraft, addAccount, listAccounts, removeAccount, useAccount} from '../../src/config/accounts.js'
import {rejection} from '../support/rejection.js'

/** Permission bits as octal text, e.g. `600`. */
async function permissions(path: string): Promise<string> {
  return ((await stat(path)).mode % 0o1000).toString(8)
}

const SECRET = 'svc-Secret-0123456789abcdef'
const prod: AccountDraft = {name: 'prod', projectId: '123', region: 'eu', type: 'service-account', username: 'svc'}
const legacy: AccountDraft = {name: 'legacy', type: 'api-secret'}

describe('accounts service', () => {
  let dir: string
  let path: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mpx-accounts-'))
    path = join(dir, 'mpx', 'config.json')
  })

  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  describe('addAccount', () => {
    it('stores a service account, makes the first account the default, and writes the file 0600', async () => {
      expect(await addAccount(path, prod, SECRET)).to.deep.equal({isDefault: true, replaced: false})
      expect(await readConfig(path)).to.deep.equal({
        accounts: {prod: {projectId: '123', region: 'eu', secret: SECRET, type: 'service-account', username: 'svc'}},
        defaultAccount: 'prod',
      })
      if (process.platform !== 'win32') expect(await permissions(path)).to.equal('600')
    })

    it('leaves the default alone for a second account, unless asked', async () => {
      await addAccount(path, prod, SECRET)
      expect(await addAccount(path, legacy, 'legacy-secret')).to.deep.equal({isDefault: false, replaced: false})
      expect((await readConfig(path)).defaultAccount).to.equal('prod')
      await addAccount(path, {...legacy, name: 'other'}, 'other-secret', {makeDefault: true})
      expect((await readConfig(path)).defaultAccount).to.equal('other')
    })

    it('refuses to overwrite an account unless forced; replacing the default keeps it the default', async () => {
      await addAccount(path, prod, SECRET)
      await addAccount(path, legacy, 'legacy-secret')
      const error = await rejection(addAccount(path, {...prod, projectId: '456'}, 'new-secret'))
      expect(error).to.be.instanceOf(UsageError)
      expect(error.message).to.include('"prod" already exists').and.to.include('--force')
      expect((await readConfig(path)).accounts.prod.secret).to.equal(SECRET)

      expect(await addAccount(path, {...prod, projectId: '456'}, 'new-secret', {force: true})).to.deep.equal({
        isDefault: true,
        replaced: true,
      })
      const config = await readConfig(path)
      expect(config.accounts.prod).to.include({projectId: '456', secret: 'new-secret'})
      expect(config.defaultAccount).to.equal('prod')
    })

    it('makes the new account the default when the default points at nothing', async () => {
      await addAccount(path, prod, SECRET)
      await removeAccount(path, 'prod')
      expect((await addAccount(path, legacy, 'legacy-secret')).isDefault).to.equal(true)
    })

    const invalid: Array<[string, AccountDraft, string, RegExp]> = [
      ['a service account without username', {...prod, username: undefined}, SECRET, /needs --username/],
      ['a service account without project id', {...prod, projectId: undefined}, SECRET, /needs --project-id/],
      ['a non-numeric project id', {...prod, projectId: 'abc'}, SECRET, /--project-id must be a number/],
      ['an unknown region', {...prod, region: 'mars'}, SECRET, /--region must be one of us, eu, in/],
      ['a bad name', {...prod, name: '-prod'}, SECRET, /"-prod" is not a valid account name/],
      ['a name with a space', {...prod, name: 'my prod'}, SECRET, /not a valid account name/],
      [
        'a username with a project API secret',
        {...legacy, username: 'svc'},
        SECRET,
        /--username is for service accounts/,
      ],
      ['a secret with a blank', prod, 'two words', /The secret must be one line without blanks/],
      ['an empty secret', prod, '', /The secret/],
    ]
    for (const [what, draft, secret, message] of invalid) {
      it(`refuses ${what} and writes nothing`, async () => {
        const error = await rejection(addAccount(path, draft, secret))
        expect(error).to.be.instanceOf(UsageError)
        expect(error.message).to.match(message)
        expect(error.message).not.to.include(SECRET)
        expect(await readConfig(path)).to.deep.equal({accounts: {}})
      })
    }
  })

  describe('listAccounts', () => {
    it('lists accounts by name with secrets masked and the default marked', async () => {
      await addAccount(path, prod, SECRET)
      await addAccount(path, legacy, 'shortsec')
      const listed = await listAccounts(path)
      expect(listed).to.deep.equal({
        accounts: [
          {
            isDefault: false,
            name: 'legacy',
            projectId: undefined,
            region: 'us',
            secret: '********',
            timezone: 'UTC',
            type: 'api-secret',
            username: undefined,
          },
          {
            isDefault: true,
            name: 'prod',
            projectId: '123',
            region: 'eu',
            secret: 'sv********ef',
            timezone: 'UTC',
            type: 'service-account',
            username: 'svc',
          },
        ],
        defaultAccount: 'prod',
      })
      expect(JSON.stringify(listed)).not.to.include(SECRET).and.not.to.include('shortsec')
    })

    it('is empty without a config file', async () => {
      expect(await listAccounts(path)).to.deep.equal({accounts: [], defaultAccount: undefined})
    })
  })

  describe('useAccount and removeAccount', () => {
    beforeEach(async () => {
      await addAccount(path, prod, SECRET)
      await addAccount(path, legacy, 'legacy-secret')
    })

    it('useAccount changes the default', async () => {
      await useAccount(path, 'legacy')
      expect((await readConfig(path)).defaultAccount).to.equal('legacy')
    })

    it('useAccount and removeAccount fail with not found for an unknown name, naming the known ones', async () => {
      for (const run of [useAccount, removeAccount]) {
        const error = await rejection(run(path, 'nope'))
        expect(error).to.be.instanceOf(NotFoundError)
        expect(error.message).to.include('"nope"').and.to.include('legacy, prod')
      }

      const error = await rejection(useAccount(path, 'constructor'))
      expect(error).to.be.instanceOf(NotFoundError)
    })

    it('removeAccount removes the account and its secret', async () => {
      expect(await removeAccount(path, 'legacy')).to.deep.equal({wasDefault: false})
      expect(await readFile(path, 'utf8')).not.to.include('legacy-secret')
      expect(await readConfig(path)).to.deep.equal({
        accounts: {prod: {projectId: '123', region: 'eu', secret: SECRET, type: 'service-account', username: 'svc'}},
        defaultAccount: 'prod',
      })
    })

    it('removing the default account leaves no default', async () => {
      expect(await removeAccount(path, 'prod')).to.deep.equal({wasDefault: true})
      const config = await readConfig(path)
      expect(config.defaultAccount).to.equal(undefined)
      expect(Object.keys(config.accounts)).to.deep.equal(['legacy'])
    })
  })
})
