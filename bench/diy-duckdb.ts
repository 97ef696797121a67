/**
 * The do-it-yourself DuckDB pipeline, as a user would script it instead of mpx: the raw export saved
 * by `curl --compressed` to a file, then DuckDB's own JSON reader with the normalization done in SQL
 * (the statements come from the benchmark: see diySql in bench/bench.ts). Both steps run here, one
 * after the other, so that the benchmark times (and /usr/bin/time accounts for) the whole pipeline.
 * Standalone (run by plain `node`, which strips the types).
 *
 * Usage: node bench/diy-duckdb.ts '{"curlConfig":"…","file":"…","db":"…","sql":["CREATE TABLE …","INSERT …"]}'
 */
import {DuckDBInstance} from '@duckdb/node-api'
import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'

const job = JSON.parse(process.argv[2] ?? '{}') as {curlConfig: string; db: string; file: string; sql: string[]}

// Step 1: `curl --compressed -K CONFIG > FILE` (the config holds the URLs and the auth header).
const out = openSync(job.file, 'w')
const code = await new Promise<null | number>((resolve, reject) => {
  const curl = spawn('curl', ['-K', job.curlConfig], {stdio: ['ignore', out, 'inherit']})
  curl.once('error', reject)
  curl.once('close', resolve)
})
closeSync(out)
if (code !== 0) throw new Error(`curl exited with ${code}`)

// Step 2: the file into the table, normalized by SQL.
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
