import type {TableSchema} from 'mpx-mixpanel-core/internal/records/schemas.js'

import {quoteIdentifier, quoteLiteral} from './database.js'

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
function readJsonColumns(schema: TableSchema): string {
  return `{${schema.columns.map((column) => `${quoteIdentifier(column.name)}: ${quoteLiteral(column.type)}`).join(', ')}}`
}

/** `INSERT` of JSON-lines files into `table`, through DuckDB's JSON reader, straight into the schema's columns. */
export function insertJsonLinesSql(table: string, schema: TableSchema, files: readonly string[]): string {
  const source = files.length === 1 ? quoteLiteral(files[0]) : `[${files.map((file) => quoteLiteral(file)).join(', ')}]`
  return (
    `INSERT INTO ${quoteIdentifier(table)} (${columnList(schema)}) SELECT ${columnList(schema)} ` +
    `FROM read_json(${source}, format = 'newline_delimited', columns = ${readJsonColumns(schema)})`
  )
}
