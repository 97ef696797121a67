import type {RecordKind} from '../records/types.js'

import {quoteIdentifier, quoteLiteral} from './database.js'

export interface Column {
  readonly name: string
  readonly notNull?: boolean
  readonly primaryKey?: boolean
  readonly type: string
}

export interface TableSchema {
  readonly columns: readonly Column[]
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

/**
 * `CREATE TABLE` for a kind. `constraints: false` leaves out the primary key, for staging tables
 * that may hold a record twice before deduplication.
 */
export function createTableSql(table: string, schema: TableSchema, constraints = true): string {
  const columns = schema.columns.map((column) => {
    const notNull = column.notNull ? ' NOT NULL' : ''
    const primaryKey = constraints && column.primaryKey ? ' PRIMARY KEY' : ''
    return `${quoteIdentifier(column.name)} ${column.type}${notNull}${primaryKey}`
  })
  return `CREATE TABLE ${quoteIdentifier(table)} (${columns.join(', ')})`
}

/** The comma-separated, quoted column list. */
export function columnList(schema: TableSchema, prefix = ''): string {
  return schema.columns.map((column) => `${prefix}${quoteIdentifier(column.name)}`).join(', ')
}

/** `a.k1 = b.k1 AND ...` over the key columns. */
export function keyMatch(schema: TableSchema, left: string, right: string): string {
  return schema.key.map((name) => `${left}.${quoteIdentifier(name)} = ${right}.${quoteIdentifier(name)}`).join(' AND ')
}

/** The `columns={...}` argument of read_json: the file's fields read straight into column types. */
export function readJsonColumns(schema: TableSchema): string {
  return `{${schema.columns.map((column) => `${quoteIdentifier(column.name)}: ${quoteLiteral(column.type)}`).join(', ')}}`
}
