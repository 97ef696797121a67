import type {Sink, SinkContext, SinkTarget, SinkWriter} from 'mpx'

import {join, resolve} from 'node:path'

import {compressions, type ParquetOptions, type ParquetSinkSettings} from './options.js'

/** An error whose exitCode mpx uses: 3, a usage problem. */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), {exitCode: 3})
}

function parquetOptions(target: SinkTarget, context: SinkContext): ParquetOptions {
  const {compression, dir, memory_limit: memoryLimit, threads} = target.options
  return {
    compression: compressions.find((name) => name === compression) ?? 'zstd',
    dir: resolve(typeof dir === 'string' ? dir : join(context.dataDir, 'parquet')),
    memoryLimit: typeof memoryLimit === 'string' ? memoryLimit : undefined,
    threads: typeof threads === 'number' ? threads : undefined,
  }
}

/**
 * Events and profiles as Parquet files, in a directory per table: events partitioned by UTC day
 * (`<dir>/<table>/event_date=YYYY-MM-DD/*.parquet`), profiles as one file set
 * (`<dir>/<table>/*.parquet`), with the columns of mpx's DuckDB tables. This module stays light:
 * DuckDB loads when a fetch opens the sink.
 */
export function parquetSink(settings: ParquetSinkSettings = {}): Sink {
  return {
    description: 'Parquet files, events partitioned by day (event_date=YYYY-MM-DD), zstd: --sink-option dir=DIR',
    formats: ['normalized'],
    name: 'parquet',
    async open(target: SinkTarget, context: SinkContext): Promise<SinkWriter> {
      if (target.format !== 'normalized')
        throw usageError(`Parquet files hold normalized records, not ${target.format}`)
      const {openParquetWriter} = await import('./writer.js')
      return openParquetWriter(target, parquetOptions(target, context), context, settings)
    },
    optionsSchema: {
      additionalProperties: false,
      properties: {
        compression: {
          default: 'zstd',
          description: 'Parquet compression codec',
          enum: [...compressions],
          type: 'string',
        },
        dir: {
          description: 'Directory with one sub-directory per table (default: <data dir>/parquet)',
          minLength: 1,
          type: 'string',
        },
        memory_limit: {
          description:
            "DuckDB's memory_limit while converting, e.g. 1GB (default 256MB; beyond it DuckDB spills to disk)",
          pattern: String.raw`^\s*\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]|B|bytes)?\s*$`,
          type: 'string',
        },
        threads: {description: 'DuckDB worker threads (default: one per core)', minimum: 1, type: 'integer'},
      },
      type: 'object',
    },
  }
}
