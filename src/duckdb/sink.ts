import type {DaysCapability, DaysTarget, Sink, SinkContext, SinkTarget, SinkWriter} from '../sinks/sink.js'

/** The sync capability, its DuckDB code loaded only when a sync uses it. */
function lazyDays(): DaysCapability {
  // One capability for the sink's life: it holds the database from one chunk to the next.
  let capability: Promise<DaysCapability> | undefined
  const load = async () => {
    capability ??= import('./days-writer.js').then(({duckdbDays}) =>
      duckdbDays((target) => {
        const {memory_limit: memoryLimit, path, threads} = target.options
        return {
          memoryLimit: typeof memoryLimit === 'string' ? memoryLimit : undefined,
          path: String(path),
          threads: typeof threads === 'number' ? threads : undefined,
        }
      }),
    )
    return capability
  }

  return {
    finishSync: async (target: DaysTarget, context) => (await load()).finishSync(target, context),
    lockPath: (target) => `${String(target.options.path)}.${target.table.toLowerCase()}.sync.lock`,
    release: async (target, context) => (await load()).release?.(target, context),
    replaceDays: async (target, context) => (await load()).replaceDays(target, context),
    state: async (target, context) => (await load()).state(target, context),
  }
}

/**
 * Tables in a DuckDB database file. This module stays light: DuckDB itself is loaded by `open`,
 * so listing sinks or reading help never pays for it.
 */
export function duckdbSink(): Sink {
  return {
    days: lazyDays(),
    description: 'Tables in a local DuckDB database (the default): --db FILE, or --sink-option path=FILE',
    formats: ['normalized'],
    name: 'duckdb',
    async open(target: SinkTarget, context: SinkContext): Promise<SinkWriter> {
      const {openTableWriter} = await import('./table-writer.js')
      const {file_bytes: fileBytes, memory_limit: memoryLimit, path, threads} = target.options
      return openTableWriter(
        target,
        {
          fileBytes: typeof fileBytes === 'number' ? fileBytes : undefined,
          memoryLimit: typeof memoryLimit === 'string' ? memoryLimit : undefined,
          path: String(path),
          threads: typeof threads === 'number' ? threads : undefined,
        },
        context,
      )
    },
    optionsSchema: {
      additionalProperties: false,
      properties: {
        file_bytes: {
          description: "Bytes of records per temporary file loaded by DuckDB's JSON reader (default 32MB)",
          minimum: 1000,
          type: 'integer',
        },
        memory_limit: {
          description: "DuckDB's memory_limit while loading, e.g. 1GB (default 256MB; beyond it DuckDB spills to disk)",
          pattern: String.raw`^\s*\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]|B|bytes)?\s*$`,
          type: 'string',
        },
        path: {
          description: 'The database file (default: --db, $MPX_DB, else <data dir>/<project id>.duckdb)',
          minLength: 1,
          type: 'string',
        },
        threads: {
          description: 'DuckDB worker threads while loading (default: one per core, less one left to the fetch)',
          minimum: 1,
          type: 'integer',
        },
      },
      required: ['path'],
      type: 'object',
    },
  }
}
