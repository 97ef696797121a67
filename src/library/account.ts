import type {ResolvedAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import type {Credentials} from 'mpx-mixpanel-core/internal/mixpanel/credentials.js'
import type {Region} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'

import {resolveAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import {checkTimezone} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

/** Credentials as a library caller gives them. */
export type CredentialsInput =
  {apiSecret: string; projectId?: string} | {projectId: number | string; secret: string; username: string}

/** What picks a library call's account, as `new Mixpanel(...)` takes it. */
export interface AccountChoice {
  readonly account?: string
  readonly credentials?: CredentialsInput
  readonly region?: Region
  readonly timezone?: string
}

function toCredentials(input: CredentialsInput): Credentials {
  if ('apiSecret' in input) {
    return {
      kind: 'api-secret',
      projectId: input.projectId === undefined ? undefined : String(input.projectId),
      secret: input.apiSecret,
    }
  }

  return {kind: 'service-account', projectId: String(input.projectId), secret: input.secret, username: input.username}
}

/**
 * The library's account, resolved as the streams and the CLI do: `credentials` given, else the
 * saved account named `account`, else the environment (MP_USERNAME/MP_SECRET/MP_PROJECT_ID or
 * MP_API_SECRET), else the config file's default account.
 */
export async function libraryAccount(choice: AccountChoice): Promise<ResolvedAccount> {
  const {account, region, timezone} = choice
  if (choice.credentials) {
    return {
      credentials: toCredentials(choice.credentials),
      region: region ?? 'us',
      source: 'credentials',
      timezone: timezone === undefined ? 'UTC' : checkTimezone(timezone, 'the timezone option'),
    }
  }

  const {configPath, defaultConfigDir, readConfig} = await import('mpx-mixpanel-core/internal/config/config-file.js')
  return resolveAccount(await readConfig(configPath(defaultConfigDir())), {account, region, timezone})
}
