import type {Credentials} from './credentials.js'
import type {Region} from './regions.js'
import type {RetryOptions} from './retry.js'

import {UsageError} from '../errors.js'
import {MixpanelClient} from './client.js'

/** What a caller decides about a client; the environment fills in the rest. */
export interface ClientSettings {
  /** An origin other than Mixpanel's; else MPX_API_URL. */
  readonly apiUrl?: string
  readonly credentials: Credentials
  /** Where the settings below come from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv
  /** Allow a plain-http apiUrl on a host other than loopback. */
  readonly insecure?: boolean
  /** Called before each retry. */
  readonly onRetry?: (message: string, delayMs: number) => void
  readonly region?: Region
  /** Wins over MPX_RETRY_DELAY_MS. */
  readonly retry?: Partial<RetryOptions>
}

/** Client settings that come from the environment (documented in the README). */
export function clientEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const number = (name: string): number | undefined => {
    const value = env[name]
    if (value === undefined || value === '') return undefined
    const parsed = Number(value)
    if (!Number.isFinite(parsed) || parsed < 0) throw new UsageError(`${name}="${value}" is not a number`)
    return parsed
  }

  return {
    apiUrl: env.MPX_API_URL || undefined,
    idleTimeoutMs: number('MPX_IDLE_TIMEOUT_MS'),
    minDelayMs: number('MPX_RETRY_DELAY_MS'),
  }
}

/**
 * The one way mpx builds a Mixpanel client (CLI fetches, auth:test and the library alike), so that
 * MPX_API_URL, MPX_IDLE_TIMEOUT_MS and MPX_RETRY_DELAY_MS mean the same everywhere.
 */
export function createClient(settings: ClientSettings): MixpanelClient {
  const environment = clientEnvironment(settings.env)
  return new MixpanelClient({
    apiUrl: settings.apiUrl ?? environment.apiUrl,
    credentials: settings.credentials,
    idleTimeoutMs: environment.idleTimeoutMs,
    insecure: settings.insecure,
    onRetry: settings.onRetry,
    region: settings.region,
    retry: {
      ...(environment.minDelayMs === undefined ? {} : {minDelayMs: environment.minDelayMs}),
      ...settings.retry,
    },
  })
}
