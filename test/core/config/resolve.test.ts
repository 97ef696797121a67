import type {ConfigFile} from 'mpx-mixpanel-core/internal/config/config-file.js'

import {expect} from 'chai'
import {resolveAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import {NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

const config: ConfigFile = {
  accounts: {
    legacy: {secret: 'legacy-api-secret', type: 'api-secret'},
    prod: {projectId: '111', region: 'eu', secret: 'prod-secret', type: 'service-account', username: 'prod-user'},
    staging: {projectId: '222', secret: 'staging-secret', type: 'service-account', username: 'staging-user'},
    west: {secret: 'west-secret', timezone: 'America/Los_Angeles', type: 'api-secret'},
  },
  defaultAccount: 'prod',
}

const serviceAccountEnv = {MP_PROJECT_ID: '333', MP_SECRET: 'env-secret', MP_USERNAME: 'env-user'}

function thrown(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }

  throw new Error('expected an error')
}

describe('resolveAccount', () => {
  describe('the config file (last layer)', () => {
    it('uses the default account, with its project and region, when nothing else is given', () => {
      expect(resolveAccount(config, {}, {})).to.deep.equal({
        credentials: {kind: 'service-account', projectId: '111', secret: 'prod-secret', username: 'prod-user'},
        region: 'eu',
        source: 'account "prod"',
        timezone: 'UTC',
      })
    })

    it('defaults the region to us when the account has none', () => {
      const resolved = resolveAccount({...config, defaultAccount: 'staging'}, {}, {})
      expect(resolved.region).to.equal('us')
      expect(resolved.credentials).to.include({projectId: '222', username: 'staging-user'})
    })

    it('resolves a project API secret account without a project id', () => {
      const resolved = resolveAccount({...config, defaultAccount: 'legacy'}, {}, {})
      expect(resolved.credentials).to.deep.equal({
        kind: 'api-secret',
        projectId: undefined,
        secret: 'legacy-api-secret',
      })
    })

    it('fails with a usage error when there are no credentials anywhere', () => {
      const error = thrown(() => resolveAccount({accounts: {}}, {}, {}))
      expect(error).to.be.instanceOf(UsageError)
      expect(error.message).to.include('auth:add').and.to.include('MP_USERNAME')
    })

    it('fails with not found when the default account does not exist', () => {
      const error = thrown(() => resolveAccount({...config, defaultAccount: 'gone'}, {}, {}))
      expect(error).to.be.instanceOf(NotFoundError)
      expect(error.message).to.include('"gone"')
    })
  })

  describe('the environment (overrides the config file)', () => {
    it('MP_USERNAME, MP_SECRET and MP_PROJECT_ID replace the default account', () => {
      expect(resolveAccount(config, {}, serviceAccountEnv)).to.deep.equal({
        credentials: {kind: 'service-account', projectId: '333', secret: 'env-secret', username: 'env-user'},
        region: 'us',
        source: 'environment',
        timezone: 'UTC',
      })
    })

    it('MP_API_SECRET replaces the default account with a project API secret', () => {
      const resolved = resolveAccount(config, {}, {MP_API_SECRET: 'env-api-secret'})
      expect(resolved.credentials).to.deep.equal({kind: 'api-secret', projectId: undefined, secret: 'env-api-secret'})
      expect(resolved.source).to.equal('environment')
    })

    it('a service account in the environment wins over MP_API_SECRET', () => {
      const resolved = resolveAccount(config, {}, {...serviceAccountEnv, MP_API_SECRET: 'env-api-secret'})
      expect(resolved.credentials.kind).to.equal('service-account')
    })

    it("MP_PROJECT_ID and MP_REGION alone override the default account's project and region", () => {
      const resolved = resolveAccount(config, {}, {MP_PROJECT_ID: '999', MP_REGION: 'in'})
      expect(resolved.credentials).to.include({projectId: '999', secret: 'prod-secret', username: 'prod-user'})
      expect(resolved.region).to.equal('in')
      expect(resolved.source).to.equal('account "prod"')
    })

    it('MP_REGION sets the region of environment credentials', () => {
      expect(resolveAccount(config, {}, {...serviceAccountEnv, MP_REGION: 'eu'}).region).to.equal('eu')
    })

    it('refuses half a service account, a missing project id, and bad values', () => {
      const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
        [{MP_USERNAME: 'env-user'}, /both MP_USERNAME and MP_SECRET/],
        [{MP_SECRET: 'env-secret'}, /both MP_USERNAME and MP_SECRET/],
        [{MP_SECRET: 'env-secret', MP_USERNAME: 'env-user'}, /project id/],
        [{...serviceAccountEnv, MP_REGION: 'mars'}, /region "mars" in MP_REGION/],
        [{...serviceAccountEnv, MP_PROJECT_ID: 'abc'}, /"abc" in MP_PROJECT_ID is not a number/],
      ]
      for (const [env, message] of cases) {
        const error = thrown(() => resolveAccount(config, {}, env))
        expect(error, JSON.stringify(env)).to.be.instanceOf(UsageError)
        expect(error.message).to.match(message)
        expect(error.message).not.to.include('env-secret')
      }
    })
  })

  describe('flags (override the environment and the config file)', () => {
    it('--project-id and --region override the environment', () => {
      const resolved = resolveAccount(config, {projectId: '444', region: 'in'}, {...serviceAccountEnv, MP_REGION: 'eu'})
      expect(resolved.credentials).to.include({projectId: '444', username: 'env-user'})
      expect(resolved.region).to.equal('in')
    })

    it('--project-id and --region override the default account (and MP_PROJECT_ID, MP_REGION)', () => {
      const resolved = resolveAccount(config, {projectId: '444', region: 'us'}, {MP_PROJECT_ID: '999', MP_REGION: 'in'})
      expect(resolved.credentials).to.include({projectId: '444', username: 'prod-user'})
      expect(resolved.region).to.equal('us')
    })

    it('--project-id gives environment credentials their project', () => {
      const resolved = resolveAccount(config, {projectId: '555'}, {MP_SECRET: 'env-secret', MP_USERNAME: 'env-user'})
      expect(resolved.credentials).to.include({projectId: '555'})
    })

    it('--account picks a named account over environment credentials and the default account', () => {
      const resolved = resolveAccount(config, {account: 'staging'}, {...serviceAccountEnv, MP_API_SECRET: 'x'})
      expect(resolved).to.deep.equal({
        credentials: {kind: 'service-account', projectId: '222', secret: 'staging-secret', username: 'staging-user'},
        region: 'us',
        source: 'account "staging"',
        timezone: 'UTC',
      })
    })

    it('an account named with --account keeps its own project and region over MP_PROJECT_ID and MP_REGION', () => {
      const resolved = resolveAccount(config, {account: 'prod'}, {MP_PROJECT_ID: '999', MP_REGION: 'in'})
      expect(resolved.credentials).to.include({projectId: '111'})
      expect(resolved.region).to.equal('eu')
    })

    it('--account with --project-id and --region overrides the named account', () => {
      const resolved = resolveAccount(config, {account: 'prod', projectId: '777', region: 'us'}, {})
      expect(resolved.credentials).to.include({projectId: '777', username: 'prod-user'})
      expect(resolved.region).to.equal('us')
    })

    it('an unknown --account is not found (exit 4), even one named like an Object method', () => {
      for (const account of ['nope', 'constructor', 'toString']) {
        const error = thrown(() => resolveAccount(config, {account}, {}))
        expect(error, account).to.be.instanceOf(NotFoundError)
        expect(error.message).to.include(`"${account}"`)
      }
    })

    it('refuses a non-numeric --project-id and an unknown --region', () => {
      expect(thrown(() => resolveAccount(config, {projectId: '12a'}, {}))).to.be.instanceOf(UsageError)
      expect(thrown(() => resolveAccount(config, {region: 'mars'}, {}))).to.be.instanceOf(UsageError)
    })
  })

  describe('the timezone', () => {
    it('is UTC unless something names one; the account names its own', () => {
      expect(resolveAccount(config, {}, {}).timezone).to.equal('UTC')
      expect(resolveAccount(config, {}, serviceAccountEnv).timezone).to.equal('UTC')
      expect(resolveAccount({...config, defaultAccount: 'west'}, {}, {}).timezone).to.equal('America/Los_Angeles')
    })

    it('--timezone wins over MP_TIMEZONE, which wins over the default account', () => {
      const west = {...config, defaultAccount: 'west'}
      expect(resolveAccount(west, {}, {MP_TIMEZONE: 'Europe/Paris'}).timezone).to.equal('Europe/Paris')
      expect(resolveAccount(west, {timezone: 'Asia/Tokyo'}, {MP_TIMEZONE: 'Europe/Paris'}).timezone).to.equal(
        'Asia/Tokyo',
      )
      expect(resolveAccount(config, {}, {...serviceAccountEnv, MP_TIMEZONE: 'Europe/Paris'}).timezone).to.equal(
        'Europe/Paris',
      )
    })

    it('an account named with --account keeps its own timezone over MP_TIMEZONE, as it does its region', () => {
      expect(resolveAccount(config, {account: 'west'}, {MP_TIMEZONE: 'Europe/Paris'}).timezone).to.equal(
        'America/Los_Angeles',
      )
      expect(resolveAccount(config, {account: 'prod'}, {MP_TIMEZONE: 'Europe/Paris'}).timezone).to.equal('Europe/Paris')
    })

    it('spells a zone as the IANA database does, and refuses an unknown one naming it and where it came from', () => {
      expect(resolveAccount(config, {timezone: 'america/los_angeles'}, {}).timezone).to.equal('America/Los_Angeles')
      const flag = thrown(() => resolveAccount(config, {timezone: 'Mars/Olympus'}, {}))
      expect(flag).to.be.instanceOf(UsageError)
      expect(flag.message).to.include('"Mars/Olympus"').and.to.include('--timezone')
      const env = thrown(() => resolveAccount(config, {}, {MP_TIMEZONE: 'PST8PDT-nope'}))
      expect(env).to.be.instanceOf(UsageError)
      expect(env.message).to.include('"PST8PDT-nope"').and.to.include('MP_TIMEZONE')
    })
  })
})
