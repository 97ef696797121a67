/** What Mixpanel's raw export sends, one per line. */
export interface RawEvent {
  event: string
  properties: Record<string, unknown>
}

/**
 * The normalized event: the shape stored in DuckDB and the default stream format.
 * Keys are always in this order. Integers beyond JavaScript's safe range are `bigint`.
 */
export interface NormalizedEvent {
  distinct_id: string
  event_name: string
  /** ISO 8601 UTC, e.g. `2024-01-15T14:20:00.000Z`. */
  event_time: string
  insert_id: string
  properties: Record<string, unknown>
}

/** What Mixpanel's engage API sends for each profile. */
export interface RawProfile {
  $distinct_id: string
  $properties: Record<string, unknown>
}

/** The normalized profile: the shape stored in DuckDB and the default stream format. */
export interface NormalizedProfile {
  distinct_id: string
  /** ISO 8601 UTC from `$properties.$last_seen`, or null. */
  last_seen: null | string
  properties: Record<string, unknown>
}

export const recordFormats = ['normalized', 'raw'] as const
export type RecordFormat = (typeof recordFormats)[number]

export const recordKinds = ['events', 'profiles'] as const
export type RecordKind = (typeof recordKinds)[number]
