import type {ObjectStorageSettings} from 'mpx-mixpanel'

export const compressions = ['zstd', 'snappy', 'gzip', 'lz4', 'uncompressed'] as const
export type Compression = (typeof compressions)[number]

/** Settings of the sink itself (not user options): tests make files small to exercise rotation. */
export interface ParquetSinkSettings {
  /** Bytes of JSON lines loaded into DuckDB at a time (default 32 MB). */
  readonly fileBytes?: number
}

/** A `dir=s3://bucket/prefix`: the tables go under it, one prefix each. */
export interface RemoteDir extends ObjectStorageSettings {
  readonly url: string
}

/** The options a fetch passes with --sink-option KEY=VALUE, validated by mpx against the schema below. */
export interface ParquetOptions {
  readonly compression: Compression
  /** Absolute: resolved against the working directory. With a remote dir, where the fetch works locally. */
  readonly dir: string
  readonly memoryLimit?: string
  /** `dir=s3://...`: the tables go to object storage. */
  readonly remote?: RemoteDir
  readonly threads?: number
}

/** An error mpx reports as a usage error (exit 3): plugins tell mpx the exit code by a property. */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), {exitCode: 3})
}
