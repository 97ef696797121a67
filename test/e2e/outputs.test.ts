/**
 * Where the records go failing on mpx's side: a reader that leaves (`| head -1`), a stdout closed
 * or full, a disk that fills up, a database directory without write permission. Each gives a clear
 * one-line error (or, for a reader that leaves, none) and corrupts nothing.
 */

import {expect} from 'chai'
import {normalizeProfileLine} from 'mpx-mixpanel-core/internal/records/profiles.js'
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, copyFile, mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {
  E2E_ACCOUNT,
  e2eEnv,
  expectNoSecret,
  expectOneLineError,
  linesOf,
  runShell,
  snapshotDatabase,
} from '../support/e2e.js'
import {generateEvents, generateProfiles} from '../support/generate.js'
import {useCliWithFakeMixpanel} from '../support/hooks.js'

/** Many records: mpx is still writing when the reader leaves, and they outgrow a 1 MB file limit. */
const events = generateEvents({count: 20_000, from: '2024-01-01', seed: 81, to: '2024-01-10'})
const profiles = generateProfiles({count: 5000, seed: 82})

/** `ulimit -f` counts blocks of 1024 bytes in bash. */
const ONE_MEGABYTE = 1024

/**
 * A directory where nothing can be created, whoever runs the tests: mode 0555, and immutable
 * (chattr +i) when running as root, who ignores modes. When neither works (root on a file system
 * without chattr), `made` is false and `path` is a directory under /proc instead.
 */
async function readOnlyDirectory(path: string): Promise<{made: boolean; path: string; restore: () => Promise<void>}> {
  await mkdir(path, {recursive: true})
  await chmod(path, 0o555)
  const writable = async (): Promise<boolean> => {
    try {
      await writeFile(join(path, '.probe'), '')
      await rm(join(path, '.probe'))
      return true
    } catch {
      return false
    }
  }

  let immutable = false
  if (await writable()) {
    immutable = await promisify(execFile)('chattr', ['+i', path]).then(
      () => true,
      () => false,
    )
  }

  const restore = async () => {
    if (immutable) await promisify(execFile)('chattr', ['-i', path])
    await chmod(path, 0o755)
  }

  if (await writable()) {
    await restore()
    return {made: false, path: '/proc/self/mpx-e2e-read-only', async restore() {}}
  }

  return {made: true, path, restore}
}

describe('outputs that fail on mpx’s side (real binary)', function () {
  this.timeout(60_000)
  const cli = useCliWithFakeMixpanel({auth: E2E_ACCOUNT, engagePageSize: 1000, events, profiles}, (server, directory) =>
    e2eEnv(server.url, directory),
  )

  const allEvents = ['fetch:events', '2024-01-01', '2024-01-10']

  describe('a reader that leaves early', () => {
    const cases = [
      {args: [...allEvents, '--stdout', '--raw'], first: events.lineAt(0), what: 'raw events'},
      {args: ['fetch:profiles', '--stdout', '--raw'], first: profiles.lineAt(0), what: 'raw profiles'},
      {args: ['fetch:profiles', '--stdout'], first: normalizeProfileLine(profiles.lineAt(0)), what: 'profiles'},
    ]
    for (const {args, first, what} of cases) {
      it(`${what} | head -1: the first record, whole, and exit 0 without a word`, async () => {
        const result = await runShell(`set -o pipefail; mpx ${args.join(' ')} | head -1`, {env: cli.env})
        expect(result.code, result.stderr).to.equal(0)
        expect(result.stdout).to.equal(`${first}\n`)
        expect(result.stderr).to.equal('')
      })
    }

    it('| true (a reader that reads nothing): exit 0 without a word', async () => {
      const result = await runShell(`set -o pipefail; mpx ${allEvents.join(' ')} --stdout | true`, {env: cli.env})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stderr).to.equal('')
    })
  })

  describe('stdout closed or full', () => {
    for (const args of [
      [...allEvents, '--stdout'],
      ['fetch:profiles', '--stdout', '--raw'],
    ]) {
      it(`${args[0]} > /dev/full: exit 1, one line saying the output cannot be written`, async () => {
        const result = await runShell(`mpx ${args.join(' ')} > /dev/full`, {env: cli.env})
        expect(result.code).to.equal(1)
        expectOneLineError(result.stderr, /Cannot write the output \(ENOSPC\): check the disk or the pipe/)
      })
    }

    it('a DuckDB fetch with stdout closed stores every event (no file lands on descriptor 1)', async () => {
      const db = join(cli.directory, 'closed-stdout.duckdb')
      const result = await runShell(`exec >&-; mpx ${allEvents.join(' ')} --limit 3000 --db '${db}' --quiet`, {
        env: cli.env,
      })
      expect(result.code, result.stderr).to.equal(0)
      const counted = await cli.run(['sql', 'SELECT count(*) AS n FROM events', '--db', db])
      expect(counted.stdout).to.equal('{"n":3000}\n')
    })
  })

  describe('a full disk (a file size limit: ulimit -f)', () => {
    it('DuckDB --replace: exit 1, one line naming what could not be written, the database as before', async () => {
      const db = join(cli.directory, 'full.duckdb')
      const small = await cli.run(['fetch:events', '2024-01-01', '2024-01-01', '--limit', '50', '--db', db, '--quiet'])
      expect(small.code, small.stderr).to.equal(0)
      const before = await snapshotDatabase(db)
      const result = await runShell(
        `ulimit -f ${ONE_MEGABYTE}; mpx ${allEvents.join(' ')} --db '${db}' --replace --quiet`,
        {env: cli.env},
      )
      expect(result.code).to.equal(1)
      expectOneLineError(result.stderr, /\(EFBIG\)|File too large|No space/i)
      expect(await snapshotDatabase(db)).to.deep.equal(before)
      // No load file is left behind either.
      expect((await readdir(cli.directory)).filter((name) => name.startsWith('mpx-load-'))).to.deep.equal([])
    })

    it('DuckDB into a new database, the disk full as a load file closes: exit 1, one line, no file left', async () => {
      const db = join(cli.directory, 'new.duckdb')
      // Load files of ~100 kB against a 100 kB limit: the last writes fail as the first file is closed.
      const result = await runShell(
        `ulimit -f 100; mpx ${allEvents.join(' ')} --db '${db}' --quiet --sink-option file_bytes=101000`,
        {env: cli.env},
      )
      expect(result.code).to.equal(1)
      expectOneLineError(result.stderr, /Cannot write the load file .* \(EFBIG\): check the disk/)
      expect(existsSync(db)).to.equal(false)
      expect((await readdir(cli.directory)).filter((name) => name.includes('duckdb') || name.startsWith('mpx-load-')))
        .to.be.empty
    })

    it('--output FILE: exit 1, one line, and neither FILE nor a partial file', async () => {
      const file = join(cli.directory, 'out', 'events.jsonl')
      await mkdir(join(cli.directory, 'out'))
      const result = await runShell(`ulimit -f ${ONE_MEGABYTE}; mpx ${allEvents.join(' ')} -o '${file}' --quiet`, {
        env: cli.env,
      })
      expect(result.code).to.equal(1)
      expectOneLineError(result.stderr, new RegExp(`Cannot write ${file} \\(EFBIG\\)`))
      expect(await readdir(join(cli.directory, 'out'))).to.deep.equal([])
    })

    it('--stdout to a file: exit 1 with one line (what was written stays, whole records but maybe the last)', async () => {
      const file = join(cli.directory, 'stdout.jsonl')
      const result = await runShell(`ulimit -f ${ONE_MEGABYTE}; mpx ${allEvents.join(' ')} --stdout > '${file}'`, {
        env: cli.env,
      })
      expect(result.code).to.equal(1)
      expectOneLineError(result.stderr, /Cannot write the output \(EFBIG\)/)
    })
  })

  describe('a database directory without write permission', () => {
    it('a new database: exit 1, one line naming the path, nothing created, no request made', async () => {
      const readOnly = await readOnlyDirectory(join(cli.directory, 'read-only'))
      try {
        for (const db of [join(readOnly.path, 'new.duckdb'), join(readOnly.path, 'sub', 'new.duckdb')]) {
          const result = await cli.run([...allEvents, '--db', db])
          expect(result.code, result.stderr).to.equal(1)
          expectOneLineError(result.stderr, new RegExp(db.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)))
          expectNoSecret(result.stderr, 'stderr')
          expect(existsSync(db)).to.equal(false)
        }

        expect(cli.server.requests).to.have.length(0)
        if (readOnly.path.startsWith(cli.directory)) expect(await readdir(readOnly.path)).to.deep.equal([])
      } finally {
        await readOnly.restore()
      }
    })

    it('an existing database: exit 1, one line, the database as before', async () => {
      const seed = join(cli.directory, 'seed.duckdb')
      const small = await cli.run([
        'fetch:events',
        '2024-01-01',
        '2024-01-01',
        '--limit',
        '50',
        '--db',
        seed,
        '--quiet',
      ])
      expect(small.code, small.stderr).to.equal(0)
      const before = await snapshotDatabase(seed)
      await mkdir(join(cli.directory, 'locked'))
      const db = join(cli.directory, 'locked', 'db.duckdb')
      await copyFile(seed, db)
      const readOnly = await readOnlyDirectory(join(cli.directory, 'locked'))
      // Without a read-only directory, a directory where DuckDB's write-ahead log goes blocks writing as well.
      if (!readOnly.made) await mkdir(`${db}.wal`)
      try {
        const result = await cli.run([...allEvents, '--db', db, '--replace', '--quiet'])
        expect(result.code, result.stderr).to.equal(1)
        expectOneLineError(result.stderr, /(Cannot|Could not) .*db\.duckdb/)
      } finally {
        await readOnly.restore()
      }

      await rm(`${db}.wal`, {force: true, recursive: true})
      expect(await snapshotDatabase(db)).to.deep.equal(before)
      expect(linesOf((await cli.run(['sql', 'SELECT 1 AS ok', '--db', db])).stdout)).to.deep.equal(['{"ok":1}'])
    })
  })
})
