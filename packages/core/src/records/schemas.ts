import type {RecordKind} from './types.js'

/** A column of a stored record: its name and DuckDB type. */
export interface Column {
  readonly name: string
  readonly notNull?: boolean
  readonly primaryKey?: boolean
  readonly type: string
}

export interface TableSchema {
  readonly columns: readonly Column[]
  /** The column whose UTC date is a record's day (events: event_time), when records have one. */
  readonly day?: string
  /** Columns that identify a record: a table holds one row per key when deduplicated. */
  readonly key: readonly string[]
}

/** The stored shape of each kind: the fields of the normalized records, in the same order. */
export const schemas: Readonly<Record<RecordKind, TableSchema>> = {
  events: {
    columns: [
      {name: 'event_name', notNull: true, type: 'VARCHAR'},
      {name: 'event_time', notNull: true, type: 'TIMESTAMPTZ'},
      {name: 'distinct_id', notNull: true, type: 'VARCHAR'},
      {name: 'insert_id', notNull: true, type: 'VARCHAR'},
      {name: 'properties', type: 'JSON'},
    ],
    day: 'event_time',
    key: ['event_name', 'distinct_id', 'insert_id'],
  },
  profiles: {
    columns: [
      {name: 'distinct_id', primaryKey: true, type: 'VARCHAR'},
      {name: 'last_seen', type: 'TIMESTAMPTZ'},
      {name: 'properties', type: 'JSON'},
    ],
    key: ['distinct_id'],
  },
}
