/**
 * Helpers of the end-to-end suites: they run the real binary (bin/run.js) against the fake
 * Mixpanel and look at what a user would look at: stdout, stderr, the exit code, the database.
 */

import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {openDatabase, quoteIdentifier} from '../../src/duckdb/database.js'
import {binRun, type CliResult, outcome, serviceAccountEnv} from './cli.js'
import {rowsAsJsonLines} from './duckdb.js'

/** The service account every e2e suite signs in with: none of these may ever be printed or stored. */
export const USERNAME = 'svc-e2e.mp-service-account'
export const SECRET = 'e2e-S3cret-never-shown-7f3a91'
/** A wrong secret (Mixpanel answers 401): it must not be printed either. */
export const WRONG_SECRET = 'e2e-Wrong-secret-also-hidden-c04d'

/** The e2e account, as the fake Mixpanel's `auth` expects it. */
export const E2E_ACCOUNT = {secret: SECRET, username: USERNAME}

/** The CLI's environment in an e2e test: E2E_ACCOUNT at `url`, temporary files and data under `directory`. */
export function e2eEnv(
  url: string,
  directory: string,
  configFile = join(directory, 'no-config.json'),
): Record<string, string> {
  return serviceAccountEnv(url, E2E_ACCOUNT, {
    MPX_CONFIG: configFile,
    TMPDIR: directory,
    XDG_DATA_HOME: join(directory, 'data'),
  })
}

/** Every form in which a secret could leak: as is, and inside an HTTP Basic header. */
export function secretForms(): string[] {
  const basic = (user: string, secret: string) => Buffer.from(`${user}:${secret}`).toString('base64')
  return [
    SECRET,
    WRONG_SECRET,
    basic(USERNAME, SECRET),
    basic(USERNAME, WRONG_SECRET),
    basic(SECRET, ''),
    // Base64 of the secret alone, at each of the three alignments it can take inside a longer text.
    ...[0, 1, 2].map((shift) =>
      Buffer.from('x'.repeat(shift) + SECRET)
        .toString('base64')
        .slice(shift === 0 ? 0 : 4, -4),
    ),
  ]
}

/** Throws naming `where` when `text` holds a secret in any form. */
export function expectNoSecret(text: Buffer | string, where: string): void {
  const haystack = typeof text === 'string' ? text : text.toString('latin1')
  for (const form of secretForms()) {
    expect(haystack.includes(form), `${where} holds a secret (${form.slice(0, 6)}…)`).to.equal(false)
  }
}

/** Runs at most `concurrency` tasks at a time. */
export function pool(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve)
      })
    }

    active++
    try {
      return await task()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

/** Lines of a JSONL text, without the empty string after the last newline. */
export function linesOf(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n')
}

/**
 * What a failed fetch may leave on stdout: whole lines only (the text ends with a newline), each
 * a complete JSON value, none twice, and in the fault-free order from the first: a prefix of the
 * fault-free output.
 */
export function expectCleanPrefix(stdout: string, faultFree: string): void {
  if (stdout !== '') expect(stdout.endsWith('\n'), 'the last line is complete').to.equal(true)
  const lines = linesOf(stdout)
  for (const line of lines) expect(() => JSON.parse(line) as unknown, line.slice(0, 80)).to.not.throw()
  const expected = linesOf(faultFree)
  expect(lines.length, 'no more lines than the fault-free output').to.be.at.most(expected.length)
  expect(lines, 'a prefix of the fault-free output').to.deep.equal(expected.slice(0, lines.length))
}

/** stderr of a failed command: exactly one line, `Error: ...`, matching `reason`. */
export function expectOneLineError(stderr: string, reason: RegExp): void {
  expect(stderr, 'one line on stderr').to.match(/^Error: [^\n]+\n$/)
  expect(stderr).to.match(reason)
}

/** A database's contents: each table of the main schema (sorted by name) with its rows as JSON lines. */
export type DatabaseSnapshot = Record<string, string[]>

/** The times of mpx's records, left out when comparing two fetches. */
const timeColumns: Record<string, string> = {
  _mpx_days: '* EXCLUDE (fetched_at)',
  _mpx_fetches: '* EXCLUDE (started_at, finished_at)',
  _mpx_syncs: '* EXCLUDE (last_commit_at, last_sync_at)',
}

/** How a table's rows are listed: in insertion order, or by key where DuckDB does not keep one. */
const stableOrder: Record<string, string> = {profiles: 'distinct_id'}

/**
 * Everything in a database file, or undefined when there is no file. `exact` lists every row in
 * rowid order, for "exactly as before"; otherwise the fetch times of `_mpx_fetches` are left out
 * and profiles are sorted by id, for comparing two fetches of the same data.
 */
export async function snapshotDatabase(path: string, exact = true): Promise<DatabaseSnapshot | undefined> {
  if (!existsSync(path)) return undefined
  const database = await openDatabase(path, {readOnly: true})
  try {
    const tables = await database.connection.runAndReadAll(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
         AND NOT temporary ORDER BY table_name`,
    )
    const snapshot: DatabaseSnapshot = {}
    for (const [name] of tables.getRows()) {
      const table = String(name)
      const columns = exact ? '*' : (timeColumns[table] ?? '*')
      const order = exact ? 'rowid' : (stableOrder[table] ?? 'rowid')
      snapshot[table] = await rowsAsJsonLines(
        database.connection,
        `SELECT ${columns} FROM ${quoteIdentifier(table)} ORDER BY ${order}`,
      )
    }

    return snapshot
  } finally {
    database.close()
  }
}

/** The database file and its write-ahead log, for grepping. */
export async function databaseBytes(path: string): Promise<Buffer> {
  const parts = await Promise.all(
    [path, `${path}.wal`].map(async (file) => (existsSync(file) ? readFile(file) : Buffer.alloc(0))),
  )
  return Buffer.concat(parts)
}

export interface ShellOptions {
  env: Record<string, string | undefined>
}

/**
 * Runs a bash script in which `mpx` runs the built CLI, for what needs a shell: real pipes
 * (`| head -1`), a closed stdout, a file size limit. Same clean environment as runMpx.
 */
export async function runShell(script: string, options: ShellOptions): Promise<CliResult> {
  const child = spawn('bash', ['-c', `mpx() { "$MPX_NODE" "$MPX_BIN" "$@"; }\n${script}`], {
    env: {
      HOME: process.env.HOME,
      MPX_BIN: binRun,
      MPX_NODE: process.execPath,
      PATH: process.env.PATH,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return outcome(child)
}
