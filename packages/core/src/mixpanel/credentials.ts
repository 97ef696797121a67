/** A service account (the supported way) or a project API secret (deprecated by Mixpanel). */
export type Credentials =
  | {readonly kind: 'api-secret'; readonly projectId?: string; readonly secret: string}
  | {readonly kind: 'service-account'; readonly projectId: string; readonly secret: string; readonly username: string}

/** The HTTP Basic header for a set of credentials. */
export function authorizationHeader(credentials: Credentials): string {
  const pair =
    credentials.kind === 'service-account' ? `${credentials.username}:${credentials.secret}` : `${credentials.secret}:`
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`
}
