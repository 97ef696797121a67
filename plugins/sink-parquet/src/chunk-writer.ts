import type {DaysTarget, SinkContext, SinkResult, SinkWriter} from 'mpx-mixpanel'

import {mkdir, mkdtemp, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import type {ParquetOptions, ParquetSinkSettings} from './options.js'

import {removeStaleTemporaries, TEMP_PREFIX} from './files.js'

/**
 * The events of each day's partition of a chunk's files, as written: the project's days (the
 * partitions), after duplicates went. Read from the files' own row counts, not their data.
 */
async function partitionRows(files: string): Promise<Map<string, number>> {
  const rows = new Map<string, number>()
  const partitions = (await readdir(files)).filter((name) => name.startsWith('event_date='))
  if (partitions.length === 0) return rows
  const {DuckDBInstance} = await import('@duckdb/node-api')
  const instance = await DuckDBInstance.create(':memory:')
  try {
    const connection = await instance.connect()
    try {
      const glob = join(files, 'event_date=*', '*.parquet').replaceAll("'", "''")
      const reader = await connection.runAndReadAll(
        `SELECT CAST(event_date AS VARCHAR), count(*) FROM read_parquet('${glob}', hive_partitioning = true,
           hive_types = {'event_date': VARCHAR}) GROUP BY ALL`,
      )
      for (const [day, count] of reader.getRows()) rows.set(String(day), Number(count))
    } finally {
      connection.closeSync()
    }
  } finally {
    instance.closeSync()
  }

  return rows
}

/**
 * A sync chunk's writer, wherever its table lives: the chunk's files are made as a new local table
 * (`chunk`) of a working directory, laid out as the table is (`event_date=DAY/...`), its events
 * counted per day; at commit `publish` puts those days in place (a rename of each partition, or
 * an upload to a bucket) and records them, and returns where they went. The working directory
 * goes in every case.
 */
export async function openChunkWriter(
  target: DaysTarget,
  options: ParquetOptions,
  context: SinkContext,
  settings: ParquetSinkSettings,
  publish: (files: string, rows: ReadonlyMap<string, number>) => Promise<string>,
): Promise<SinkWriter> {
  await mkdir(options.dir, {recursive: true})
  await removeStaleTemporaries(options.dir)
  const work = await mkdtemp(join(options.dir, `${TEMP_PREFIX}${target.table}-${process.pid}-`))
  const {openParquetWriter} = await import('./writer.js')
  let writer: SinkWriter
  try {
    writer = await openParquetWriter(
      {...target, mode: 'create', table: 'chunk'},
      {...options, dir: work, remote: undefined},
      context,
      settings,
    )
  } catch (error) {
    await rm(work, {force: true, recursive: true})
    throw error
  }

  return {
    async abort(reason) {
      await writer.abort(reason)
      await rm(work, {force: true, recursive: true})
    },

    async commit(): Promise<SinkResult> {
      try {
        const {written} = await writer.commit()
        const files = join(work, 'chunk')
        // A chunk without events has no files: its days are replaced all the same.
        await mkdir(files, {recursive: true})
        return {location: `events in ${await publish(files, await partitionRows(files))}`, written}
      } finally {
        await rm(work, {force: true, recursive: true})
      }
    },

    async write(batch) {
      await writer.write(batch)
    },
  }
}
