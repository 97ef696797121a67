import type {Credentials} from '../mixpanel/credentials.js'
import type {AccountEntry, ConfigFile} from './config-file.js'

import {NotFoundError, UsageError} from '../errors.js'
import {isRegion, type Region} from '../mixpanel/regions.js'
import {checkTimezone} from '../records/wall-clock.js'

export type ResolvedAccount = {
  readonly credentials: Credentials
  readonly region: Region
  /** Where the credentials came from, for messages: `flags`, `environment` or `account "NAME"`. */
  readonly source: string
  /** The project's timezone (IANA name); absent: UTC. */
  readonly timezone?: string
}

export type AccountOverrides = {
  /** `--account NAME`: a named account from the config file. */
  account?: string
  /** `--project-id`. */
  projectId?: string
  /** `--region`. */
  region?: string
  /** `--timezone`. */
  timezone?: string
}

function checkRegion(value: string, from: string): Region {
  if (!isRegion(value)) throw new UsageError(`Unknown region "${value}" in ${from}: use us, eu or in`)
  return value
}

function checkProjectId(value: string, from: string): string {
  if (!/^\d+$/.test(value)) throw new UsageError(`Project id "${value}" in ${from} is not a number`)
  return value
}

function fromEntry(name: string, entry: AccountEntry, projectId?: string): Credentials {
  if (entry.type === 'api-secret')
    return {kind: 'api-secret', projectId: projectId ?? entry.projectId, secret: entry.secret}
  return {
    kind: 'service-account',
    projectId: projectId ?? entry.projectId ?? '',
    secret: entry.secret,
    username: entry.username ?? name,
  }
}

function fromEnvironment(env: NodeJS.ProcessEnv, projectId?: string): Credentials | undefined {
  if (env.MP_USERNAME || env.MP_SECRET) {
    if (!env.MP_USERNAME || !env.MP_SECRET) {
      throw new UsageError('Set both MP_USERNAME and MP_SECRET for a service account (or neither)')
    }

    if (!projectId) {
      throw new UsageError('A service account needs a project id: set MP_PROJECT_ID or pass --project-id')
    }

    return {kind: 'service-account', projectId, secret: env.MP_SECRET, username: env.MP_USERNAME}
  }

  if (env.MP_API_SECRET) return {kind: 'api-secret', projectId, secret: env.MP_API_SECRET}
  return undefined
}

/**
 * Resolves credentials, region and timezone: flags first (`--account`, `--project-id`, `--region`,
 * `--timezone`), then the environment (MP_USERNAME/MP_SECRET/MP_PROJECT_ID/MP_REGION/MP_TIMEZONE,
 * or MP_API_SECRET), then the config file's default account; the timezone is UTC when none of them
 * names one.
 */
export function resolveAccount(
  config: ConfigFile,
  overrides: AccountOverrides,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedAccount {
  const flagProjectId = overrides.projectId ? checkProjectId(overrides.projectId, '--project-id') : undefined
  const envProjectId = env.MP_PROJECT_ID ? checkProjectId(env.MP_PROJECT_ID, 'MP_PROJECT_ID') : undefined
  const flagRegion = overrides.region ? checkRegion(overrides.region, '--region') : undefined
  const envRegion = env.MP_REGION ? checkRegion(env.MP_REGION, 'MP_REGION') : undefined
  const flagTimezone = overrides.timezone ? checkTimezone(overrides.timezone, '--timezone') : undefined
  const envTimezone = env.MP_TIMEZONE ? checkTimezone(env.MP_TIMEZONE, 'MP_TIMEZONE') : undefined

  const fromConfig = (name: string, source: string): ResolvedAccount => {
    // hasOwn: an account called "constructor" must not find Object.prototype's.
    const entry = Object.hasOwn(config.accounts, name) ? config.accounts[name] : undefined
    if (!entry) {
      throw new NotFoundError(
        source === 'flags'
          ? `No account named "${name}": list accounts with mpx auth:list, add one with mpx auth:add`
          : `The default account "${name}" does not exist: pick another with mpx auth:use NAME`,
      )
    }

    const credentials = fromEntry(name, entry, flagProjectId ?? (source === 'flags' ? undefined : envProjectId))
    if (credentials.kind === 'service-account' && !credentials.projectId) {
      throw new UsageError(`Account "${name}" has no project id: pass --project-id`)
    }

    // An account named on the command line keeps its own region over MP_REGION; a default one does not.
    const region = source === 'flags' ? (entry.region ?? envRegion) : (envRegion ?? entry.region)
    // The timezone is the project's, as the region is: the same precedence.
    const timezone = source === 'flags' ? (entry.timezone ?? envTimezone) : (envTimezone ?? entry.timezone)
    return {
      credentials,
      region: flagRegion ?? region ?? 'us',
      source: `account "${name}"`,
      timezone: flagTimezone ?? timezone ?? 'UTC',
    }
  }

  if (overrides.account) return fromConfig(overrides.account, 'flags')

  const credentials = fromEnvironment(env, flagProjectId ?? envProjectId)
  if (credentials) {
    const timezone = flagTimezone ?? envTimezone ?? 'UTC'
    return {credentials, region: flagRegion ?? envRegion ?? 'us', source: 'environment', timezone}
  }

  if (config.defaultAccount) return fromConfig(config.defaultAccount, 'config')

  const saved = Object.keys(config.accounts)
  if (saved.length > 0) {
    const names = saved.length > 5 ? `${saved.slice(0, 5).join(', ')}, ...` : saved.join(', ')
    throw new UsageError(
      `No default account: make one of the saved accounts (${names}) the default with mpx auth:use NAME`,
    )
  }

  throw new UsageError(
    'No Mixpanel credentials: run mpx auth:add NAME, or set MP_USERNAME, MP_SECRET and MP_PROJECT_ID (or MP_API_SECRET)',
  )
}
