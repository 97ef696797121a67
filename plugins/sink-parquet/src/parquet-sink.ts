import type {Sink, SinkContext, SinkTarget, SinkWriter} from 'mpx-mixpanel'

import {join, resolve} from 'node:path'

import {syncLockPath} from './days.js'
import {compressions, type ParquetOptions, type ParquetSinkSettings, usageError} from './options.js'

/** `s3://...`: a directory in object storage (S3, or an S3-compatible service). */
export function isRemote(dir: string): boolean {
  return dir.toLowerCase().startsWith('s3://')
}

/** An error whose exitCode mpx uses: 3, a usage problem. */
function parquetOptions(target: SinkTarget, context: SinkContext): ParquetOptions {
  const {compression, dir, endpoint, memory_limit: memoryLimit, path_style: pathStyle, threads} = target.options
  const remote =
    typeof dir === 'string' && isRemote(dir)
      ? {
          endpoint: typeof endpoint === 'string' ? endpoint : undefined,
          pathStyle: typeof pathStyle === 'boolean' ? pathStyle : undefined,
          url: dir,
        }
      : undefined
  if (!remote && (endpoint !== undefined || pathStyle !== undefined)) {
    throw usageError('--sink-option endpoint and path_style apply to a dir=s3://BUCKET/PREFIX')
  }

  return {
    compression: compressions.find((name) => name === compression) ?? 'zstd',
    // A remote table is written here first, then published at commit.
    dir: remote
      ? join(context.dataDir, 'parquet-work')
      : resolve(typeof dir === 'string' ? dir : join(context.dataDir, 'parquet')),
    memoryLimit: typeof memoryLimit === 'string' ? memoryLimit : undefined,
    remote,
    threads: typeof threads === 'number' ? threads : undefined,
  }
}

/**
 * Events and profiles as Parquet files, in a directory per table: events partitioned by the
 * project's day, UTC unless the fetch has a timezone (`<dir>/<table>/event_date=YYYY-MM-DD/*.parquet`), profiles as one file set
 * (`<dir>/<table>/*.parquet`), with the columns of mpx's DuckDB tables. This module stays light:
 * DuckDB loads when a fetch opens the sink.
 */
export function parquetSink(settings: ParquetSinkSettings = {}): Sink {
  const days = async () => {
    const {parquetDays} = await import('./days.js')
    return parquetDays(parquetOptions, settings)
  }

  return {
    // A day is a partition: mpx sync:events replaces each day's as a whole.
    days: {
      finishSync: async (target, context) => (await days()).finishSync(target, context),
      lockPath: (target, context) => syncLockPath(parquetOptions(target, context), target.table),
      replaceDays: async (target, context) => (await days()).replaceDays(target, context),
      state: async (target, context) => (await days()).state(target, context),
    },
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
          description:
            'Directory with one sub-directory per table, or s3://BUCKET/PREFIX with one prefix per table (default: <data dir>/parquet)',
          minLength: 1,
          type: 'string',
        },
        endpoint: {
          description:
            'S3-compatible endpoint for an s3:// dir, e.g. http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)',
          pattern: '^https?://[^/]',
          type: 'string',
        },
        memory_limit: {
          description:
            "DuckDB's memory_limit while converting, e.g. 1GB (default 256MB; beyond it DuckDB spills to disk)",
          pattern: String.raw`^\s*\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]|B|bytes)?\s*$`,
          type: 'string',
        },
        path_style: {
          description:
            'Path-style addressing (host/bucket/key) for an s3:// dir (default: true with a custom endpoint)',
          type: 'boolean',
        },
        threads: {description: 'DuckDB worker threads (default: one per core)', minimum: 1, type: 'integer'},
      },
      type: 'object',
    },
  }
}
