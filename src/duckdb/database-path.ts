import {join} from 'node:path'

/** Where the DuckDB database lives: --db, else $MPX_DB, else <dataDir>/<project id>.duckdb. */
export function databasePath(dataDir: string, projectId: string | undefined, db?: string): string {
  return db || process.env.MPX_DB || join(dataDir, `${projectId ?? 'default'}.duckdb`)
}
