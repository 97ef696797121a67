/**
 * DuckDB's own speed reference: `read_json` of a local JSONL file of normalized events into a
 * table of mpx's events schema (the SQL comes from the benchmark, built from src/duckdb/schemas.ts).
 * Standalone (run by plain `node`, which strips the types).
 *
 * Usage: node bench/duckdb-load.ts '{"db":"…","sql":["CREATE TABLE …","INSERT … read_json(…)"]}'
 */
import {DuckDBInstance} from '@duckdb/node-api'

const job = JSON.parse(process.argv[2] ?? '{}') as {db: string; sql: string[]}
const instance = await DuckDBInstance.create(job.db)
const connection = await instance.connect()
try {
  await connection.run(`SET TimeZone = 'UTC'`)
  for (const sql of job.sql) {
    await connection.run(sql)
  }

  const reader = await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM events')
  process.stderr.write(`${JSON.stringify({records: reader.getRowObjects()[0].n})}\n`)
} finally {
  connection.closeSync()
  instance.closeSync()
}
