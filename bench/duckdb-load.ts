/**
 * The benchmark's DuckDB driver: SQL (from the benchmark, built from mpx's events schema) run into
 * a fresh database, then the table's row count reported on stderr. Two rows use it:
 * - DuckDB's own speed reference: `read_json` of a local JSONL file of normalized events;
 * - the do-it-yourself pipeline, as a user would script it instead of mpx: with `curlConfig`, the
 *   raw export is first saved by `curl --compressed` to `file`, then normalized by the SQL (see
 *   diySql in bench/bench.ts). Both steps run in this one process, so that the benchmark times
 *   (and /usr/bin/time accounts for) the whole pipeline.
 * Standalone (run by plain `node`, which strips the types).
 *
 * Usage: node bench/duckdb-load.ts '{"db":"…","sql":["CREATE TABLE …","INSERT …"]}'
 *        node bench/duckdb-load.ts '{"curlConfig":"…","file":"…","db":"…","sql":[…]}'
 */
import {DuckDBInstance} from '@duckdb/node-api'
import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'

const job = JSON.parse(process.argv[2] ?? '{}') as {curlConfig?: string; db: string; file?: string; sql: string[]}

if (job.curlConfig && job.file) {
  // `curl --compressed -K CONFIG > FILE` (the config holds the URLs and the auth header).
  const out = openSync(job.file, 'w')
  const code = await new Promise<null | number>((resolve, reject) => {
    const curl = spawn('curl', ['-K', job.curlConfig!], {stdio: ['ignore', out, 'inherit']})
    curl.once('error', reject)
    curl.once('close', resolve)
  })
  closeSync(out)
  if (code !== 0) throw new Error(`curl exited with ${code}`)
}

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
