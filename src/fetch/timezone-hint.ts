import type {TimezoneMismatch} from 'mpx-mixpanel-core/internal/records/zone-check.js'

/** What the CLI adds to a timezone mismatch: how to set the project's timezone. */
export function timezoneHint(mismatch: TimezoneMismatch): string {
  const how =
    'pass --timezone ZONE (or set MP_TIMEZONE), or save it in the account with mpx auth:add NAME ... --timezone ZONE --force'
  return mismatch.timezone === 'UTC'
    ? `if the project's timezone (see its settings in Mixpanel) is not UTC, ${how}`
    : `the timezone comes from --timezone, MP_TIMEZONE or the account (mpx auth:list); to change it, ${how}`
}
