import {DuckDBInstance} from '@duckdb/node-api'
import {expect} from 'chai'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {repeatFlag, runMpx} from './cli.js'
import {generateEvents, generateProfiles} from './generate.js'

/** The Parquet sink plugin's directory in this repository. */
export const parquetPluginDir = fileURLToPath(new URL('../../plugins/sink-parquet', import.meta.url))

/** What the Parquet sink tests fetch: 600 events over 2024-01-01..2024-01-06, and 120 profiles. */
export const parquetFixture = {
  events: generateEvents({count: 600, from: '2024-01-01', seed: 11, to: '2024-01-06'}),
  profiles: generateProfiles({count: 120, seed: 4}),
}

/** The flags that pick the Parquet sink, with each of `options` (`dir=...`) as a --sink-option. */
export function parquetSinkFlags(...options: string[]): string[] {
  return ['--sink', 'parquet', ...repeatFlag('--sink-option', options)]
}

/** A temporary home for oclif's data, config and cache directories: plugins linked there stay there. */
export interface OclifHome {
  /** The variables that point oclif (and mpx's data directory) at it. */
  env: Record<string, string>
  path: string
  remove(): Promise<void>
}

/** A fresh OclifHome in the system's temporary directory. */
export async function oclifHome(): Promise<OclifHome> {
  const path = await mkdtemp(join(tmpdir(), 'mpx-plugins-test-'))
  return {
    env: {
      XDG_CACHE_HOME: join(path, 'cache'),
      XDG_CONFIG_HOME: join(path, 'config'),
      XDG_DATA_HOME: join(path, 'data'),
    },
    path,
    remove: () => rm(path, {force: true, recursive: true}),
  }
}

/** An oclifHome with the Parquet sink plugin linked into it (mpx plugins:link), as a user who linked it has. */
export async function oclifHomeWithParquet(): Promise<OclifHome> {
  const home = await oclifHome()
  const linked = await runMpx(['plugins:link', parquetPluginDir], {env: home.env})
  if (linked.code !== 0) await home.remove()
  expect(linked.code, linked.stderr).to.equal(0)
  return home
}

/**
 * A plugin without dependencies in `dir`: its `sinks` hook answers with sinks of these names (and
 * no oclif commands), each writing nothing.
 */
export async function writeSinkPlugin(dir: string, name: string, sinks: readonly string[]): Promise<string> {
  await mkdir(join(dir, 'hooks'), {recursive: true})
  const packageJson = {name, oclif: {hooks: {sinks: './hooks/sinks.js'}}, type: 'module', version: '1.0.0'}
  await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2))
  const list = JSON.stringify(sinks)
  await writeFile(
    join(dir, 'hooks', 'sinks.js'),
    `export default async function () {
  return ${list}.map((name) => ({
    description: 'A sink of ' + name,
    formats: ['normalized'],
    name,
    async open() {
      return {async abort() {}, async commit() { return {written: 0} }, async write() {}}
    },
    optionsSchema: {additionalProperties: false, properties: {}, type: 'object'},
  }))
}
`,
  )
  return dir
}

/** Normalized records (events) read back from Parquet files, in the stream's shape, big integers exact. */
export interface StoredEvent {
  /** The hive partition, `YYYY-MM-DD`. */
  event_date: string
  file: string
  record: unknown
}

/** Reads `glob` with DuckDB's Parquet reader, hive partitions included. */
export async function readParquetEvents(glob: string): Promise<StoredEvent[]> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    const reader = await connection.runAndReadAll(
      `SELECT event_name, epoch_ms(event_time) AS ms, distinct_id, insert_id, properties::VARCHAR AS properties,
         event_date::VARCHAR AS event_date, filename
       FROM read_parquet('${glob.replaceAll("'", "''")}', hive_partitioning = true, filename = true)`,
    )
    return reader.getRowObjects().map((row) => ({
      event_date: String(row.event_date),
      file: String(row.filename),
      // Key order as in the stream: event_name, event_time, distinct_id, insert_id, properties.
      /* eslint-disable perfectionist/sort-objects */
      record: {
        event_name: row.event_name,
        event_time: new Date(Number(row.ms)).toISOString(),
        distinct_id: row.distinct_id,
        insert_id: row.insert_id,
        properties: parseLossless(String(row.properties)),
      },
      /* eslint-enable perfectionist/sort-objects */
    }))
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

/** One query's rows as objects, on an in-memory DuckDB. */
export async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  try {
    await connection.run(`SET TimeZone = 'UTC'`)
    const reader = await connection.runAndReadAll(sql)
    return reader.getRowObjects()
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

/** Records sorted by their identity, for comparisons that ignore order. */
export function byIdentity<T>(records: T[], identity: (record: T) => unknown = (record) => record): T[] {
  const key = (record: T) => {
    const {
      distinct_id: distinctId,
      event_name: eventName,
      insert_id: insertId,
    } = identity(record) as Record<string, string>
    return `${insertId}\u0000${eventName}\u0000${distinctId}`
  }

  return [...records].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}
