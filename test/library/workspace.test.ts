import {expect} from 'chai'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type * as Library from '../../src/index.js'

import {queryLines} from '../support/duckdb.js'
import {type FakeMixpanel, startFakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {setEnvironment, temporaryDirectory} from '../support/temporary.js'

const ACCOUNT = {secret: 'ws-secret', username: 'ws'}
const events = generateEvents({count: 300, from: '2024-01-01', seed: 5, to: '2024-01-10'})

describe('Workspace', function () {
  this.timeout(60_000)
  // The library loads its services with import(), as ES modules; imported here the same way, its
  // error classes are the ones the services throw (a static import in a test file is compiled to
  // CommonJS by tsx, a second copy of each module).
  let AuthError: typeof Library.AuthError
  let InterruptedError: typeof Library.InterruptedError
  let NotFoundError: typeof Library.NotFoundError
  let UsageError: typeof Library.UsageError
  let Workspace: typeof Library.Workspace
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>
  let fake: FakeMixpanel
  let restore: () => void
  let count = 0
  const newDb = () => join(directory.path, `ws-${++count}.duckdb`)
  const workspace = (db: string, credentials = ACCOUNT) =>
    new Workspace({
      apiUrl: fake.url,
      credentials: {projectId: 7, ...credentials},
      dataDir: directory.path,
      db,
      onWarning() {},
      retry: {attempts: 1, minDelayMs: 1},
    })
  const table = async (db: string) => queryLines(db, 'SELECT * FROM events ORDER BY insert_id')

  before(async () => {
    ;({AuthError, InterruptedError, NotFoundError, UsageError, Workspace} = await import('../../src/index.js'))
    directory = await temporaryDirectory()
    fake = await startFakeMixpanel({auth: ACCOUNT, events, latencyMs: 30})
    restore = setEnvironment({MPX_NOW: '2024-01-20T12:00:00Z'})
  })

  after(async () => {
    restore()
    await fake.close()
    await directory.remove()
  })

  beforeEach(() => fake.reset())

  describe('errors are the typed classes, in words that name no CLI flag', () => {
    it('a bad date is a UsageError (exit 3), before any request', async () => {
      const error = await workspace(newDb())
        .fetchEvents({from: '2024-13-01', to: '2024-12-31'})
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UsageError)
      expect((error as Library.UsageError).exitCode).to.equal(3)
      expect(fake.requests).to.have.length(0)
    })

    it('credentials Mixpanel refuses are an AuthError (exit 2)', async () => {
      const error = await workspace(newDb(), {secret: 'wrong', username: 'ws'})
        .fetchEvents({from: '2024-01-01', to: '2024-01-02'})
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(AuthError)
      expect((error as Library.AuthError).exitCode).to.equal(2)
      expect((error as Error).message).to.not.match(/--|auth:test/)
    })

    it('an unknown sink is a NotFoundError (exit 4)', async () => {
      const error = await workspace(newDb())
        .fetchEvents({from: '2024-01-01', sink: 'nope', to: '2024-01-02'})
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(NotFoundError)
      expect((error as Error).message).to.include('No sink named "nope"')
    })

    it('a first sync without `from` says which option to give, not a flag', async () => {
      const error = await workspace(newDb())
        .syncEvents()
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UsageError)
      expect((error as Error).message).to.include(
        "give `from`, the first day of the history to keep (e.g. from: '2024-01-01')",
      )
      expect((error as Error).message).to.not.include('--')
    })

    it('a sink option the sink does not know is a UsageError naming the option', async () => {
      const error = await workspace(newDb())
        .fetchEvents({from: '2024-01-01', sinkOptions: {colour: 'blue'}, to: '2024-01-02'})
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UsageError)
      expect((error as Error).message).to.match(/^sink option colour is not an option of this sink/)
    })
  })

  describe('AbortSignal', () => {
    it('an aborted fetch (replace) throws InterruptedError and leaves the table as it was', async () => {
      const db = newDb()
      const ws = workspace(db)
      await ws.fetchEvents({from: '2024-01-01', to: '2024-01-03'})
      const before = await table(db)
      const controller = new AbortController()
      const error = await ws
        .fetchEvents({
          chunkDays: 1,
          from: '2024-01-01',
          mode: 'replace',
          onProgress: () => controller.abort(),
          signal: controller.signal,
          to: '2024-01-10',
        })
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(InterruptedError)
      expect((error as Library.InterruptedError).exitCode).to.equal(130)
      expect(await table(db)).to.deep.equal(before)
    })

    it('a signal aborted before the call makes no request', async () => {
      const error = await workspace(newDb())
        .fetchEvents({from: '2024-01-01', signal: AbortSignal.abort(), to: '2024-01-02'})
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(InterruptedError)
      expect(fake.requests).to.have.length(0)
    })

    it('an aborted sync keeps the chunks it committed, and the next sync continues with the rest', async () => {
      const db = newDb()
      const ws = workspace(db)
      const controller = new AbortController()
      const error = await ws
        .syncEvents({
          chunkDays: 1,
          from: '2024-01-01',
          onNote(detail) {
            if (detail.startsWith('saved ')) controller.abort()
          },
          signal: controller.signal,
          to: '2024-01-10',
        })
        .catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(InterruptedError)
      expect((error as Error).message).to.match(/^Interrupted: saved \d+ of 10 chunks/)
      const saved = await queryLines(db, 'SELECT day FROM _mpx_days')
      expect(saved.length).to.be.within(1, 9)
      const rest = await ws.syncEvents({chunkDays: 1, lookbackDays: 0, to: '2024-01-10'})
      expect(rest.days).to.equal(10 - saved.length)
      const whole = newDb()
      await workspace(whole).fetchEvents({from: '2024-01-01', to: '2024-01-10'})
      expect(await table(db)).to.deep.equal(await table(whole))
    })
  })

  describe('sql', () => {
    it('returns rows by column name: big integers as bigint, JSON parsed losslessly', async () => {
      const db = newDb()
      const ws = workspace(db)
      await ws.sql('CREATE TABLE t AS SELECT 1 AS x', {write: true})
      const rows = await ws.sql(
        `SELECT 12345678901234567890::HUGEINT AS big, 42::BIGINT AS n, 7 AS small, 'a' AS s, '{"id": 1234567890123456789}'::JSON AS j`,
      )
      expect(rows).to.deep.equal([
        {big: 12_345_678_901_234_567_890n, j: {id: 1_234_567_890_123_456_789n}, n: 42n, s: 'a', small: 7},
      ])
    })

    it('is read-only by default: a write is a UsageError that says how to allow it', async () => {
      const db = newDb()
      const ws = workspace(db)
      await ws.sql('CREATE TABLE t (x INTEGER)', {write: true})
      const error = await ws.sql('DROP TABLE t').catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UsageError)
      expect((error as Error).message).to.equal(
        'sql() opens the database read-only, so DROP was refused: give `write: true` to change it',
      )
    })

    it('sqlRows yields rows lazily: nothing opens before next(), and a loop left early ends a result too big to hold', async () => {
      const db = newDb()
      const ws = workspace(db)
      const rows = ws.sqlRows('SELECT range AS i FROM range(10000000000)')
      // Nothing is opened yet: the database does not even exist.
      const missing = await ws.sql('SELECT 1').catch((error_: unknown) => error_)
      expect(missing).to.be.instanceOf(Error)
      await ws.sql('SELECT 1', {write: true})
      const first: unknown[] = []
      for await (const row of rows) {
        first.push(row.i)
        if (first.length === 3) break
      }

      expect(first).to.deep.equal([0n, 1n, 2n])
      // The loop closed the database: it can be opened to write again.
      await ws.sql('CREATE TABLE after_loop (x INTEGER)', {write: true})
    })
  })

  describe('credentials, as the CLI and the streams resolve them', () => {
    it('a saved account by name, else the environment, else the default account; its project names the database', async () => {
      const config = join(directory.path, 'config.json')
      const saved = (projectId: string) => ({
        projectId,
        secret: ACCOUNT.secret,
        type: 'service-account',
        username: ACCOUNT.username,
      })
      await writeFile(
        config,
        JSON.stringify({accounts: {prod: saved('11'), staging: saved('22')}, defaultAccount: 'staging'}),
        {mode: 0o600},
      )
      const put = setEnvironment({
        MP_API_SECRET: undefined,
        MP_PROJECT_ID: undefined,
        MP_SECRET: undefined,
        MP_USERNAME: undefined,
        MPX_CONFIG: config,
        MPX_DB: undefined,
      })
      try {
        const at = (options: ConstructorParameters<typeof Workspace>[0]) =>
          new Workspace({dataDir: directory.path, ...options}).databasePath()
        expect(await at({account: 'prod'})).to.equal(join(directory.path, '11.duckdb'))
        expect(await at({})).to.equal(join(directory.path, '22.duckdb'))
        const environment = setEnvironment({MP_PROJECT_ID: '33', MP_SECRET: 's', MP_USERNAME: 'u'})
        try {
          expect(await at({})).to.equal(join(directory.path, '33.duckdb'))
        } finally {
          environment()
        }

        const missing = await at({account: 'nobody'}).catch((error: unknown) => error)
        expect(missing).to.be.instanceOf(NotFoundError)
        // The credentials given win over every other source, and the account stored into works as the CLI's.
        const db = await at({credentials: {projectId: 7, ...ACCOUNT}})
        expect(db).to.equal(join(directory.path, '7.duckdb'))
        const result = await new Workspace({
          account: 'prod',
          apiUrl: fake.url,
          dataDir: directory.path,
          onWarning() {},
        }).fetchEvents({
          from: '2024-01-01',
          to: '2024-01-01',
        })
        expect(result.location).to.include(join(directory.path, '11.duckdb'))
      } finally {
        put()
      }
    })
  })
})
