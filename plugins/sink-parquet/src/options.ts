export const compressions = ['zstd', 'snappy', 'gzip', 'lz4', 'uncompressed'] as const
export type Compression = (typeof compressions)[number]

/** Settings of the sink itself (not user options): tests make files small to exercise rotation. */
export interface ParquetSinkSettings {
  /** Bytes of JSON lines loaded into DuckDB at a time (default 32 MB). */
  readonly fileBytes?: number
}

/** The options a fetch passes with --sink-option KEY=VALUE, validated by mpx against the schema below. */
export interface ParquetOptions {
  readonly compression: Compression
  /** Absolute: resolved against the working directory. */
  readonly dir: string
  readonly memoryLimit?: string
  readonly threads?: number
}
