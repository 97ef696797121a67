import {Config} from '@oclif/core'
import {expect} from 'chai'
import {
  checkAccountEntry,
  type ConfigFile,
  configPath,
  defaultConfigDir,
  readConfig,
  writeConfig,
} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {rejection} from '../../support/rejection.js'
import {setEnvironment} from '../../support/temporary.js'

/** Permission bits as octal text, e.g. `600`. */
async function permissions(path: string): Promise<string> {
  return ((await stat(path)).mode % 0o1000).toString(8)
}

const SECRET = 'Zq9-very-secret-value-Xy'

const validConfig: ConfigFile = {
  accounts: {prod: {projectId: '123', region: 'eu', secret: SECRET, type: 'service-account', username: 'svc'}},
  defaultAccount: 'prod',
}

const isPosix = process.platform !== 'win32'

describe('config file', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mpx-config-'))
  })

  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  describe('configPath', () => {
    it('is $MPX_CONFIG when set, else config.json in the config dir', () => {
      expect(configPath('/home/u/.config/mpx', {MPX_CONFIG: '/etc/mpx.json'})).to.equal('/etc/mpx.json')
      expect(configPath('/home/u/.config/mpx', {})).to.equal(join('/home/u/.config/mpx', 'config.json'))
      expect(configPath('/home/u/.config/mpx', {MPX_CONFIG: ''})).to.equal(join('/home/u/.config/mpx', 'config.json'))
    })
  })

  describe('defaultConfigDir', () => {
    /** oclif's configDir for the CLI, loaded with exactly these variables set. */
    async function oclifConfigDir(env: Record<string, string | undefined>): Promise<string> {
      const restore = setEnvironment({
        HOME: env.HOME,
        MPX_CONFIG_DIR: env.MPX_CONFIG_DIR,
        XDG_CONFIG_HOME: env.XDG_CONFIG_HOME,
      })
      try {
        return (await Config.load(fileURLToPath(new URL('../..', import.meta.url)))).configDir
      } finally {
        restore()
      }
    }

    it("finds the CLI's config directory as oclif does, so that the library reads the same accounts", async () => {
      for (const env of [
        {HOME: '/home/u'},
        {HOME: '/home/u', XDG_CONFIG_HOME: '/xdg/config'},
        {HOME: '/home/u', MPX_CONFIG_DIR: '/custom/mpx', XDG_CONFIG_HOME: '/xdg/config'},
      ]) {
        expect(defaultConfigDir(env, 'linux'), JSON.stringify(env)).to.equal(await oclifConfigDir(env))
      }

      expect(defaultConfigDir({HOME: '/home/u'}, 'linux')).to.equal(join('/home/u', '.config', 'mpx'))
    })

    it('uses %LOCALAPPDATA% on Windows', () => {
      expect(
        defaultConfigDir({LOCALAPPDATA: String.raw`C:\Users\u\AppData\Local`, USERPROFILE: 'x'}, 'win32'),
      ).to.equal(join(String.raw`C:\Users\u\AppData\Local`, 'mpx'))
    })
  })

  describe('readConfig', () => {
    it('treats a missing file as a config without accounts', async () => {
      expect(await readConfig(join(dir, 'nope.json'))).to.deep.equal({accounts: {}})
    })

    it('reads back what writeConfig wrote', async () => {
      const path = join(dir, 'config.json')
      await writeConfig(path, validConfig)
      expect(await readConfig(path)).to.deep.equal(validConfig)
    })

    const invalid: Array<[string, unknown, RegExp]> = [
      [
        'a bad project id',
        {accounts: {prod: {...validConfig.accounts.prod, projectId: 'abc'}}},
        /accounts\.prod\.projectId must be a number/,
      ],
      [
        'an unknown region',
        {accounts: {prod: {...validConfig.accounts.prod, region: 'mars'}}},
        /accounts\.prod\.region must be one of us, eu, in/,
      ],
      [
        'an unknown timezone',
        {accounts: {prod: {...validConfig.accounts.prod, timezone: 'Mars/Olympus'}}},
        /accounts\.prod\.timezone is not a timezone: use an IANA name/,
      ],
      [
        'an unknown field',
        {accounts: {prod: {...validConfig.accounts.prod, password: 'x'}}},
        /accounts\.prod\.password: unknown field|accounts\.prod\.password unknown field "password"/,
      ],
      [
        'a service account without username',
        {accounts: {prod: {projectId: '1', secret: SECRET, type: 'service-account'}}},
        /accounts\.prod\.username is missing/,
      ],
      [
        'an unknown account type',
        {accounts: {prod: {secret: SECRET, type: 'oauth'}}},
        /accounts\.prod\.type must be one of service-account, api-secret/,
      ],
      ['an empty secret', {accounts: {prod: {secret: '', type: 'api-secret'}}}, /accounts\.prod\.secret/],
      [
        'a bad account name',
        {accounts: {'my account': {secret: SECRET, type: 'api-secret'}}},
        /"my account" is not a valid account name/,
      ],
      ['no accounts at all', {defaultAccount: 'prod'}, /\(top level\)\.accounts is missing|accounts is missing/],
      ['a top-level typo', {accounts: {}, defaultAcount: 'x'}, /defaultAcount/],
    ]
    for (const [what, content, message] of invalid) {
      it(`names the file and the bad field for ${what}`, async () => {
        const path = join(dir, 'config.json')
        await writeFile(path, JSON.stringify(content))
        const error = await rejection(readConfig(path))
        expect(error).to.be.instanceOf(UsageError)
        expect(error.message).to.include(path)
        expect(error.message).to.match(message)
        expect(error.message).not.to.include(SECRET)
      })
    }

    it('reports broken JSON without quoting the text (it may hold a secret)', async () => {
      const path = join(dir, 'config.json')
      await writeFile(path, `{"accounts": {"prod": {"type": "api-secret",\n "secret": ${SECRET}}}}`)
      const error = await rejection(readConfig(path))
      expect(error).to.be.instanceOf(UsageError)
      expect(error.message).to.include(path).and.to.include('not valid JSON')
      expect(error.message).not.to.include(SECRET.slice(0, 6))
    })

    it('says where broken JSON breaks when the parser knows', async () => {
      const path = join(dir, 'config.json')
      await writeFile(path, `{"accounts": {\n  "prod": {"type": "api-secret", "secret": "${SECRET}" "region": "eu"}}}`)
      const error = await rejection(readConfig(path))
      expect(error.message).to.match(/not valid JSON at line 2, column \d+/)
      expect(error.message).not.to.include(SECRET.slice(0, 6))
    })

    it('fails with the file name when the file cannot be read', async () => {
      const error = await rejection(readConfig(dir)) // a directory
      expect(error).to.be.instanceOf(MpxError)
      expect(error.message).to.include(dir)
    })

    if (isPosix) {
      it('warns when the file is readable by other users, and only then', async () => {
        const path = join(dir, 'config.json')
        await writeConfig(path, validConfig)
        const warnings: string[] = []
        await readConfig(path, (message) => warnings.push(message))
        expect(warnings).to.deep.equal([])

        await chmod(path, 0o644)
        await readConfig(path, (message) => warnings.push(message))
        expect(warnings).to.have.length(1)
        expect(warnings[0]).to.include(path).and.to.include('chmod 600')
      })
    }
  })

  describe('writeConfig', () => {
    if (isPosix) {
      it('writes the file 0600 in a directory it creates 0700', async () => {
        const path = join(dir, 'a', 'b', 'config.json')
        await writeConfig(path, validConfig)
        expect(await permissions(path)).to.equal('600')
        expect(await permissions(join(dir, 'a', 'b'))).to.equal('700')
        expect(await permissions(join(dir, 'a'))).to.equal('700')
      })

      it('makes an existing world-readable file 0600 again', async () => {
        const path = join(dir, 'config.json')
        await writeFile(path, '{"accounts": {}}', {mode: 0o644})
        await chmod(path, 0o644)
        await writeConfig(path, validConfig)
        expect(await permissions(path)).to.equal('600')
      })

      it('leaves an existing directory as it is', async () => {
        const shared = join(dir, 'shared')
        await mkdir(shared, {mode: 0o755})
        await chmod(shared, 0o755)
        await writeConfig(join(shared, 'config.json'), validConfig)
        expect(await permissions(shared)).to.equal('755')
      })
    }

    it('keeps a symlinked config file a symlink, writing through to its target', async () => {
      const target = join(dir, 'dotfiles', 'mpx.json')
      await mkdir(join(dir, 'dotfiles'))
      await writeFile(target, '{"accounts": {}}')
      const link = join(dir, 'config.json')
      await symlink(target, link)
      await writeConfig(link, validConfig)
      expect(JSON.parse(await readFile(target, 'utf8'))).to.deep.equal(validConfig)
      expect(await readConfig(link)).to.deep.equal(validConfig)
    })
  })

  describe('checkAccountEntry', () => {
    it('accepts a service account and a project API secret', () => {
      expect(checkAccountEntry(validConfig.accounts.prod)).to.have.property('entry')
      expect(checkAccountEntry({secret: SECRET, type: 'api-secret'})).to.have.property('entry')
    })

    it('rejects a secret with blanks or a line break', () => {
      for (const secret of ['two words', 'line\nbreak']) {
        const checked = checkAccountEntry({secret, type: 'api-secret'})
        expect(checked).to.have.property('problems').that.deep.includes({
          field: 'secret',
          keyword: 'pattern',
          message: 'must be one line without blanks',
        })
      }
    })
  })
})
