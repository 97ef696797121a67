import {
  DuckDBArrayValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api'

/**
 * DuckDB values as text for mpx's outputs. Integers stay exact (BIGINT and HUGEINT arrive as
 * bigint), JSON columns are spliced in as the JSON they hold, and TIMESTAMPTZ values are written
 * as ISO 8601 UTC, as in the stream (`2024-01-15T14:20:00.000Z`).
 */

/** ISO 8601 UTC for microseconds since the epoch, with microseconds only when there are some. */
export function isoFromMicros(micros: bigint): string | undefined {
  let ms = micros / 1000n
  let rest = micros % 1000n
  if (rest < 0n) {
    ms -= 1n
    rest += 1000n
  }

  if (ms > 8_640_000_000_000_000n || ms < -8_640_000_000_000_000n) return undefined
  const iso = new Date(Number(ms)).toISOString()
  return rest === 0n ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`
}

function timestampText(value: DuckDBTimestampTZValue): string {
  return isoFromMicros(value.micros) ?? value.toString()
}

/** A value as JSON text. `isJson`: the value is the text of a JSON column, written as is. */
export function jsonText(value: DuckDBValue, isJson = false): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'bigint': {
      return value.toString()
    }

    case 'boolean': {
      return value ? 'true' : 'false'
    }

    case 'number': {
      // NaN and infinities have no JSON number: they go as strings, as DuckDB spells them.
      return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value))
    }

    case 'string': {
      return isJson ? value : JSON.stringify(value)
    }
  }

  if (value instanceof DuckDBTimestampTZValue) return JSON.stringify(timestampText(value))
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    return `[${value.items.map((item) => jsonText(item)).join(',')}]`
  }

  if (value instanceof DuckDBStructValue) {
    const fields = Object.entries(value.entries).map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
    return `{${fields.join(',')}}`
  }

  if (value instanceof DuckDBMapValue) {
    const fields = value.entries.map(({key, value: item}) => `${JSON.stringify(plainText(key))}:${jsonText(item)}`)
    return `{${fields.join(',')}}`
  }

  if (value instanceof DuckDBUnionValue) return jsonText(value.value)
  // Decimals keep their exact digits as a JSON number; dates, times, UUIDs, blobs... as strings.
  if ('scale' in value && 'width' in value) return value.toString()
  return JSON.stringify(value.toString())
}

/** A value as plain text, for CSV cells and terminal tables: strings as they are, NULL empty. */
export function plainText(value: DuckDBValue, isJson = false): string {
  if (value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'number') return String(value)
  if (value instanceof DuckDBTimestampTZValue) return timestampText(value)
  if (
    value instanceof DuckDBListValue ||
    value instanceof DuckDBArrayValue ||
    value instanceof DuckDBStructValue ||
    value instanceof DuckDBMapValue
  ) {
    return jsonText(value, isJson)
  }

  if (value instanceof DuckDBUnionValue) return plainText(value.value)
  return value.toString()
}
