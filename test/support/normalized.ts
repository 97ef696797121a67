/** Generated records as mpx normalizes them: what a sink is given. */
import {normalizeEventLine} from 'mpx-mixpanel-core/internal/records/events.js'
import {normalizeProfileLine} from 'mpx-mixpanel-core/internal/records/profiles.js'

import {generateEvents, type GenerateEventsOptions, generateProfiles, type GenerateProfilesOptions} from './generate.js'

/** The normalized lines of generateEvents(options). */
export function normalizedEvents(options: GenerateEventsOptions): string[] {
  return [...generateEvents(options).lines()].map((line) => normalizeEventLine(line))
}

/** The normalized lines of generateProfiles(options). */
export function normalizedProfiles(options: GenerateProfilesOptions): string[] {
  return [...generateProfiles(options).lines()].map((line) => normalizeProfileLine(line))
}
