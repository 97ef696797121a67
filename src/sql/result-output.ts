import type {DuckDBValue} from '@duckdb/node-api'
import type {Writable} from 'node:stream'

import type {SqlFormat} from './formats.js'

import {jsonText, plainText} from '../duckdb/values.js'
import {LineWriter} from '../output/line-writer.js'
import {formatCount} from '../output/progress.js'
import {renderTable} from '../output/text-table.js'

export interface ResultColumn {
  /** A JSON column: its text is the value (spliced into JSONL as JSON, not as a string). */
  readonly json: boolean
  /** Unique within the result (DuckDB suffixes repeated names: `id`, `id_1`). */
  readonly name: string
  /** Right-aligned in tables. */
  readonly numeric: boolean
}

/** Prints a query's result as it streams in. */
export interface ResultReporter {
  begin(columns: readonly ResultColumn[]): Promise<void>
  end(): Promise<void>
  rows(rows: ReadonlyArray<readonly DuckDBValue[]>): Promise<void>
}

/** Rows a terminal table shows; the rest are counted, not printed. */
export const TABLE_ROW_LIMIT = 1000

/** One JSON object a line; big integers exact, JSON columns as JSON. */
function jsonlReporter(out: Writable): ResultReporter {
  const writer = new LineWriter(out)
  let prefixes: string[] = []
  let json: boolean[] = []
  return {
    async begin(columns) {
      // Each key's `"name":` text once, not once a row.
      prefixes = columns.map((column, i) => `${i === 0 ? '' : ','}${JSON.stringify(column.name)}:`)
      json = columns.map((column) => column.json)
    },
    async end() {
      writer.detach()
    },
    async rows(rows) {
      await writer.write(
        rows.map((row) => `{${row.map((value, i) => prefixes[i] + jsonText(value, json[i])).join('')}}`),
      )
    },
  }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** A header line, then one line a row; NULL is an empty field. */
function csvReporter(out: Writable): ResultReporter {
  const writer = new LineWriter(out)
  let json: boolean[] = []
  return {
    async begin(columns) {
      json = columns.map((column) => column.json)
      if (columns.length > 0) await writer.write([columns.map((column) => csvField(column.name)).join(',')])
    },
    async end() {
      writer.detach()
    },
    async rows(rows) {
      await writer.write(rows.map((row) => row.map((value, i) => csvField(plainText(value, json[i]))).join(',')))
    },
  }
}

/** Aligned columns for a terminal, with the row count; past TABLE_ROW_LIMIT rows are only counted. */
function tableReporter(out: Writable): ResultReporter {
  const writer = new LineWriter(out)
  let columns: readonly ResultColumn[] = []
  const shown: string[][] = []
  let count = 0
  return {
    async begin(resultColumns) {
      columns = resultColumns
    },
    async end() {
      if (columns.length === 0) {
        writer.detach()
        return
      }

      const table = renderTable(
        columns.map((column) => ({align: column.numeric ? 'right' : 'left', header: column.name})),
        shown,
      )
      const footer =
        count > shown.length
          ? `(${formatCount(count)} rows, first ${formatCount(shown.length)} shown: use --format jsonl or csv for all of them)`
          : `(${formatCount(count)} ${count === 1 ? 'row' : 'rows'})`
      await writer.write([table, footer])
      writer.detach()
    },
    async rows(rows) {
      for (const row of rows) {
        if (shown.length < TABLE_ROW_LIMIT)
          shown.push(row.map((value, i) => (value === null ? 'NULL' : plainText(value, columns[i].json))))
      }

      count += rows.length
    },
  }
}

const reporters: {readonly [F in SqlFormat]: (out: Writable) => ResultReporter} = {
  csv: csvReporter,
  jsonl: jsonlReporter,
  table: tableReporter,
}

/** The one place a format becomes a reporter. */
export function resultReporter(format: SqlFormat, out: Writable): ResultReporter {
  return reporters[format](out)
}
