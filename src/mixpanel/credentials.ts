import type {Region} from './regions.js'

/** A service account (the supported way) or a project API secret (deprecated by Mixpanel). */
export type Credentials =
  | {readonly kind: 'api-secret'; readonly projectId?: string; readonly secret: string}
  | {readonly kind: 'service-account'; readonly projectId: string; readonly secret: string; readonly username: string}

export type ResolvedAccount = {
  readonly credentials: Credentials
  readonly region: Region
  /** Where the credentials came from, for messages: `flags`, `environment` or `account "NAME"`. */
  readonly source: string
}

/** The HTTP Basic header for a set of credentials. */
export function authorizationHeader(credentials: Credentials): string {
  const pair =
    credentials.kind === 'service-account' ? `${credentials.username}:${credentials.secret}` : `${credentials.secret}:`
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`
}

/** Shows enough of a secret to recognise it, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '********'
  return `${secret.slice(0, 2)}${'*'.repeat(8)}${secret.slice(-2)}`
}
