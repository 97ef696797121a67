/**
 * Security, end to end: secrets never shown or stored, hostile names and expressions passed safely,
 * and credentials sent in the clear to nothing but loopback unless --insecure says so.
 * (The fault matrix also greps every one of its outputs and databases for the secret.)
 */

import type {Credentials} from 'mpx-mixpanel-core/internal/mixpanel/credentials.js'

import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {MixpanelClient} from 'mpx-mixpanel-core/internal/mixpanel/client.js'
import {endpointsFor, regions} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {chmod, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type CliResult, repeatFlag, runMpx} from '../support/cli.js'
import {
  databaseBytes,
  E2E_ACCOUNT,
  e2eEnv,
  expectNoSecret,
  expectOneLineError,
  linesOf,
  pool,
  SECRET,
  secretForms,
  snapshotDatabase,
  USERNAME,
  WRONG_SECRET,
} from '../support/e2e.js'
import {startFakeMixpanel} from '../support/fake-mixpanel.js'
import {dayStartSeconds, generateEvents, generateProfiles} from '../support/generate.js'
import {useCliWithFakeMixpanel} from '../support/hooks.js'

/** Names and values that would break a careless URL, SQL statement or JSON line. */
const hostile = [
  `Robert'); DROP TABLE events; --`,
  'say "hi"; SELECT 1; -- \\" \\\\',
  'line one\nline two\r\n\ttabbed',
  'Zürich 😀 日本語 \u2028 \u2029 ‮right-to-left',
  '$(rm -rf /) `id` %s %n %00 &project_id=1&where=x',
  `${`'";`.repeat(3333)}x`, // 10 000 characters
]
const hostileEvents = hostile.map((text, i) =>
  JSON.stringify({
    event: text,
    properties: {
      $insert_id: `insert-${i}`,
      distinct_id: text,
      note: text,
      [text]: i,
      time: dayStartSeconds('2024-01-02') + i,
    },
  }),
)
const hostileProfiles = hostile.map((text, i) =>
  JSON.stringify({$distinct_id: text, $properties: {$last_seen: '2024-01-02T10:00:00', note: text, [text]: i}}),
)
/** Where expressions: quotes, a semicolon, a newline, unicode; the GET one stays below Node's 16 kB header limit. */
const eventWhere = `properties["note"] == "O'Brien \\"x\\"; DROP TABLE events; --\n😀 ${'a'.repeat(10_000)}"`
const profileWhere = `user["note"] == "${hostile.join('" or user["note"] == "').replaceAll('\n', String.raw`\n`)}"`

function withoutEnvironmentCredentials(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('MP_')))
}

const parsed = (text: string): unknown[] => linesOf(text).map((line) => parseLossless(line))

describe('security (real binary)', function () {
  this.timeout(60_000)
  const cli = useCliWithFakeMixpanel(
    {
      auth: E2E_ACCOUNT,
      events: [
        ...generateEvents({count: 200, from: '2024-01-01', seed: 91, to: '2024-01-03'}).lines(),
        ...hostileEvents,
      ],
      profiles: [...generateProfiles({count: 50, seed: 92}).lines(), ...hostileProfiles],
    },
    (server, directory) => e2eEnv(server.url, directory, join(directory, 'config', 'config.json')),
  )

  const expectClean = (result: CliResult, what: string) => {
    expectNoSecret(result.stdout, `stdout of ${what}`)
    expectNoSecret(result.stderr, `stderr of ${what}`)
  }

  describe('secrets', () => {
    it('the grep used everywhere finds a secret as is, in a Basic header, and base64-encoded inside a text', () => {
      const basic = `Authorization: Basic ${Buffer.from(`${USERNAME}:${SECRET}`).toString('base64')}`
      expect(() => expectNoSecret(`... ${SECRET} ...`, 'text')).to.throw(/holds a secret/)
      expect(() => expectNoSecret(basic, 'header')).to.throw(/holds a secret/)
      for (const prefix of ['', 'a', 'ab', 'abc']) {
        const encoded = Buffer.from(`${prefix}${SECRET} and more`).toString('base64')
        expect(() => expectNoSecret(`token=${encoded}`, 'base64')).to.throw(/holds a secret/)
      }

      expect(() => expectNoSecret('nothing here', 'clean')).to.not.throw()
      expect(secretForms()).to.include(SECRET).and.to.include(WRONG_SECRET)
    })

    it('--help of every command shows no secret, with secrets in the environment and the config file', async () => {
      const added = await runMpx(['auth:add', 'prod', '--username', USERNAME, '--project-id', '7', '--secret-stdin'], {
        env: cli.env,
        stdin: `${SECRET}\n`,
      })
      expect(added.code, added.stderr).to.equal(0)
      const ids: string[] = []
      const walk = async (dir: string, prefix: string[]) => {
        for (const entry of await readdir(dir, {withFileTypes: true})) {
          if (entry.isDirectory()) await walk(join(dir, entry.name), [...prefix, entry.name])
          else if (entry.name.endsWith('.ts'))
            ids.push([...prefix, entry.name.replace(/\.ts$/, '')].filter((part) => part !== 'index').join(':'))
        }
      }

      await walk(new URL('../../src/commands', import.meta.url).pathname, [])
      expect(ids).to.include.members(['fetch:events', 'fetch:profiles', 'auth:add', 'sql'])
      const run = pool(3)
      const results = await Promise.all(
        [...ids.map((id) => [id, '--help']), ['--help'], ['help', 'fetch'], ['help', 'auth']].map((args) =>
          run(async () => ({args, result: await cli.run(args, {DEBUG: '*'})})),
        ),
      )
      for (const {args, result} of results) {
        expect(result.code, `${args.join(' ')}: ${result.stderr.slice(-300)}`).to.equal(0)
        expect(result.stdout, args.join(' ')).to.include('USAGE')
        expectClean(result, args.join(' '))
      }
    })

    it('DEBUG=* output of fetches, retries, failures and auth commands holds no secret', async () => {
      const db = join(cli.directory, 'debug.duckdb')
      const added = await runMpx(['auth:add', 'prod', '--username', USERNAME, '--project-id', '7', '--secret-stdin'], {
        env: {...cli.env, DEBUG: '*'},
        stdin: `${SECRET}\n`,
      })
      expect(added.code, added.stderr).to.equal(0)
      const withoutCredentials = withoutEnvironmentCredentials(cli.env)
      const runs: Array<[string, string[], Record<string, string>]> = [
        ['events to stdout, with a 429 and a reset', ['fetch:events', '2024-01-01', '2024-01-03', '--stdout'], cli.env],
        ['events into DuckDB', ['fetch:events', '2024-01-01', '2024-01-03', '--db', db], cli.env],
        ['profiles into DuckDB', ['fetch:profiles', '--db', db], cli.env],
        [
          'a wrong secret',
          ['fetch:events', '2024-01-01', '2024-01-03', '--stdout'],
          {...cli.env, MP_SECRET: WRONG_SECRET},
        ],
        ['a project API secret', ['fetch:profiles', '--stdout'], {...withoutCredentials, MP_API_SECRET: SECRET}],
        ['the config file account', ['fetch:events', '2024-01-01', '2024-01-01', '--stdout'], withoutCredentials],
        ['auth:test', ['auth:test'], withoutCredentials],
        ['auth:list', ['auth:list'], withoutCredentials],
        ['auth:list --json', ['auth:list', '--json'], withoutCredentials],
        ['sql on _mpx_fetches', ['sql', 'SELECT * FROM _mpx_fetches', '--db', db], cli.env],
      ]
      const results: Array<[string, CliResult]> = [['auth:add', added]]
      for (const [what, args, runEnv] of runs) {
        if (what.includes('429')) {
          cli.server.fail('export', {status: 429}, 1)
          cli.server.fail('export', {resetAfterRecords: 10}, 1)
        }

        if (what === 'a project API secret') {
          // A fake that takes the secret the way a project API secret is sent.
          const legacy = await startFakeMixpanel({
            auth: {apiSecret: SECRET},
            profiles: generateProfiles({count: 10, seed: 93}),
          })
          try {
            results.push([what, await runMpx(args, {env: {...runEnv, DEBUG: '*', MPX_API_URL: legacy.url}})])
          } finally {
            await legacy.close()
          }

          continue
        }

        results.push([what, await runMpx(args, {env: {...runEnv, DEBUG: '*'}})])
      }

      for (const [what, result] of results) {
        expectClean(result, what)
        // DEBUG was on: oclif's debug lines are there.
        expect(result.stderr, what).to.include('oclif:')
      }

      const codes = Object.fromEntries(results.map(([what, result]) => [what, result.code]))
      expect(codes).to.deep.include({
        'a project API secret': 0,
        'auth:test': 0,
        'a wrong secret': 2,
        'events into DuckDB': 0,
        'events to stdout, with a 429 and a reset': 0,
        'profiles into DuckDB': 0,
        'sql on _mpx_fetches': 0,
        'the config file account': 0,
      })
      expect(linesOf(results.find(([what]) => what === 'sql on _mpx_fetches')![1].stdout)).to.have.length(2)
      expectNoSecret(await databaseBytes(db), 'the database file')
      expectNoSecret(await readFile(join(cli.directory, 'data', 'mpx', 'debug.duckdb')).catch(() => ''), 'data dir')
    })

    it('a fetch warns when the config file is readable by others, without quoting it', async () => {
      const withoutCredentials = withoutEnvironmentCredentials(cli.env)
      await runMpx(['auth:add', 'prod', '--username', USERNAME, '--project-id', '7', '--secret-stdin'], {
        env: cli.env,
        stdin: `${SECRET}\n`,
      })
      const quiet = await runMpx(['fetch:events', '2024-01-01', '2024-01-01', '--stdout', '--quiet'], {
        env: withoutCredentials,
      })
      expect(quiet.code, quiet.stderr).to.equal(0)
      expect(quiet.stderr).to.equal('')
      await chmod(cli.env.MPX_CONFIG, 0o644)
      const warned = await runMpx(['fetch:events', '2024-01-01', '2024-01-01', '--stdout', '--quiet'], {
        env: withoutCredentials,
      })
      expect(warned.code, warned.stderr).to.equal(0)
      expect(warned.stderr).to.match(
        new RegExp(`^Warning: Config file ${cli.env.MPX_CONFIG} is readable by other users: run chmod 600 [^\n›]+\n$`),
      )
      expect(warned.stdout).to.equal(quiet.stdout)
      expectClean(warned, 'the warning')
    })
  })

  describe('hostile names, expressions and values', () => {
    it('--where, event names and distinct ids reach Mixpanel exactly as given (URL- and form-encoded)', async () => {
      // A 10 000-character event name, URL-encoded, would outgrow the fake's 16 kB request line: it goes in the
      // engage body (distinct ids) and in the stored data instead.
      const named = hostile.slice(0, -1)
      /** What Mixpanel sent, as it sent it. */
      const rawStdout = async (...args: string[]) => cli.run([...args, '--stdout', '--raw'])
      const events = await rawStdout(
        'fetch:events',
        '2024-01-01',
        '2024-01-03',
        '-w',
        eventWhere,
        ...repeatFlag('-e', named),
      )
      expect(events.code, events.stderr).to.equal(0)
      expect(cli.server.requests).to.have.length(1)
      expect(cli.server.requests[0].query.where).to.equal(eventWhere)
      expect(cli.server.requests[0].query.event).to.equal(JSON.stringify(named))
      expect(cli.server.requests[0].query.project_id).to.equal('4242')
      // The fake filters by name: exactly the hostile events come back, byte for byte.
      expect(linesOf(events.stdout)).to.deep.equal(hostileEvents.slice(0, named.length))

      cli.server.reset()
      const profiles = await rawStdout('fetch:profiles', '-w', profileWhere, ...repeatFlag('--distinct-id', hostile))
      expect(profiles.code, profiles.stderr).to.equal(0)
      expect(cli.server.requests[0].body.where).to.equal(profileWhere)
      expect(cli.server.requests[0].body.distinct_ids).to.equal(JSON.stringify(hostile))
      expect(linesOf(profiles.stdout)).to.deep.equal(hostileProfiles)

      cli.server.reset()
      const one = await rawStdout('fetch:profiles', '--distinct-id', hostile[0])
      expect(one.code, one.stderr).to.equal(0)
      expect(cli.server.requests[0].body.distinct_id).to.equal(hostile[0])
      expect(linesOf(one.stdout)).to.deep.equal([hostileProfiles[0]])
    })

    it('hostile event names, distinct ids and property names are stored as data, in a table named by a SQL keyword', async () => {
      const db = join(cli.directory, 'hostile.duckdb')
      const [streamed, streamedProfiles, [stored, storedProfiles]] = await Promise.all([
        cli.run(['fetch:events', '2024-01-01', '2024-01-03', '--stdout', '--quiet']),
        cli.run(['fetch:profiles', '--stdout', '--quiet']),
        (async () => [
          await cli.run(['fetch:events', '2024-01-01', '2024-01-03', 'select', '--db', db, '-w', eventWhere]),
          await cli.run(['fetch:profiles', 'from', '--db', db, '-w', profileWhere]),
        ])(),
      ])
      expect(stored.code, stored.stderr).to.equal(0)
      expect(storedProfiles.code, storedProfiles.stderr).to.equal(0)

      const rows = await cli.run(['sql', 'SELECT * FROM "select" ORDER BY rowid', '--db', db, '--format', 'jsonl'])
      expect(rows.code, rows.stderr).to.equal(0)
      expect(parsed(rows.stdout)).to.deep.equal(parsed(streamed.stdout))
      expect(parsed(rows.stdout)).to.have.length(200 + hostile.length)
      const profileRows = await cli.run([
        'sql',
        'SELECT * FROM "from" ORDER BY distinct_id',
        '--db',
        db,
        '--format',
        'jsonl',
      ])
      const byId = (a: unknown, b: unknown) =>
        String((a as {distinct_id: string}).distinct_id) < String((b as {distinct_id: string}).distinct_id) ? -1 : 1
      expect(parsed(profileRows.stdout).sort(byId)).to.deep.equal(parsed(streamedProfiles.stdout).sort(byId))

      // The expressions are recorded as given, as data; no statement in them ran.
      const filters = await cli.run([
        'sql',
        `SELECT table_name, filters->>'where' AS "where" FROM _mpx_fetches ORDER BY rowid`,
        '--db',
        db,
      ])
      expect(parsed(filters.stdout)).to.deep.equal([
        {table_name: 'select', where: eventWhere},
        {table_name: 'from', where: profileWhere},
      ])
      expect(Object.keys((await snapshotDatabase(db)) ?? {})).to.deep.equal([
        '_mpx_days',
        '_mpx_fetches',
        '_mpx_syncs',
        'from',
        'select',
      ])
    })

    it('refuses table names that are not plain identifiers (exit 3) before any request or change', async () => {
      const db = join(cli.directory, 'names.duckdb')
      const made = await cli.run(['fetch:events', '2024-01-01', '2024-01-03', '--db', db, '--quiet'])
      expect(made.code, made.stderr).to.equal(0)
      const before = await snapshotDatabase(db)
      cli.server.reset()
      // The name check itself is unit-tested (test/sinks/options.test.ts): here, that both fetch
      // commands apply it before any request or change.
      const results = await Promise.all([
        cli.run(['fetch:events', '2024-01-01', '2024-01-03', 'events; DROP TABLE events', '--db', db, '--replace']),
        cli.run(['fetch:profiles', 'x"; DROP TABLE events; --', '--db', db, '--replace']),
      ])
      for (const result of results) {
        expect(result.code, result.stderr).to.equal(3)
        expectOneLineError(result.stderr, /^Error: Table name ".*" is not allowed/s)
      }

      // tables:describe and tables:drop look names up as data: no such table.
      for (const command of ['tables:describe', 'tables:drop']) {
        for (const name of ['events; DROP TABLE events', 'events"\nDROP TABLE events; --']) {
          const result = await cli.run([command, name, '--db', db])
          expect(result.code, result.stderr).to.equal(4)
          expectOneLineError(result.stderr, /^Error: No table ".*" in /)
        }
      }

      expect(cli.server.requests).to.have.length(0)
      expect(await snapshotDatabase(db)).to.deep.equal(before)
    })
  })

  describe('where credentials may go', () => {
    it('refuses a plain-http MPX_API_URL on another host (exit 3) at once, for every command that signs in', async function () {
      // A connection attempt to this unroutable address would hang for far longer than this.
      this.timeout(20_000)
      const runs = await Promise.all(
        [
          ['fetch:events', '2024-01-01', '2024-01-03', '--stdout'],
          ['fetch:events', '2024-01-01', '2024-01-03', '--db', join(cli.directory, 'never.duckdb')],
          ['fetch:profiles', '--stdout'],
          ['auth:test'],
        ].map(async (args) => cli.run(args, {MPX_API_URL: 'http://10.255.255.1'})),
      )
      for (const result of runs) {
        expect(result.code).to.equal(3)
        expectOneLineError(
          result.stderr,
          /MPX_API_URL http:\/\/10\.255\.255\.1 is plain http: credentials would travel unencrypted; use https, or pass --insecure/,
        )
        expect(result.stdout).to.equal('')
      }

      expect(await readdir(cli.directory)).to.not.include('never.duckdb')
    })

    it('the refusal comes before any connection; --insecure lifts it', async () => {
      // 0.0.0.0 reaches this machine, but is not a loopback name: mpx must treat it as a remote host.
      const remote = cli.server.url.replace('127.0.0.1', '0.0.0.0')
      const args = ['fetch:events', '2024-01-01', '2024-01-03', '--stdout', '--quiet']
      for (const command of [args, ['fetch:profiles', '--stdout', '--quiet'], ['auth:test']]) {
        const refused = await cli.run(command, {MPX_API_URL: remote})
        expect(refused.code).to.equal(3)
        expect(refused.stderr).to.include('--insecure')
      }

      expect(cli.server.requests, 'no request reached the server').to.have.length(0)

      const allowed = await cli.run([...args, '--insecure'], {MPX_API_URL: remote})
      expect(allowed.code, allowed.stderr).to.equal(0)
      expect(linesOf(allowed.stdout)).to.have.length(200 + hostile.length)
      expect(cli.server.requests).to.have.length(1)
      const userinfo = await cli.run(args, {MPX_API_URL: remote.replace('//', `//user:${SECRET}@`)})
      expect(userinfo.code).to.equal(3)
      expectClean(userinfo, 'a URL with a password')
    })

    it('the client sends to Mixpanel over https, or to MPX_API_URL: http only on loopback or with insecure', () => {
      const credentials: Credentials = {kind: 'service-account', projectId: '1', secret: SECRET, username: USERNAME}
      for (const region of regions) {
        const {engage, export: exported} = new MixpanelClient({credentials, region}).endpoints
        expect(engage).to.match(/^https:\/\/([a-z]+\.)?mixpanel\.com\/api\/2\.0\/engage$/)
        expect(exported).to.match(/^https:\/\/data(-[a-z]+)?\.mixpanel\.com\/api\/2\.0\/export$/)
        expect(endpointsFor(region)).to.deep.equal({engage, export: exported})
      }

      const client = (apiUrl: string, insecure?: boolean) => new MixpanelClient({apiUrl, credentials, insecure})
      expect(client('https://proxy.example.com/ignored/path').endpoints.export).to.equal(
        'https://proxy.example.com/api/2.0/export',
      )
      for (const loopback of ['http://127.0.0.1:9', 'http://127.8.9.10', 'http://localhost:9', 'http://[::1]:9']) {
        expect(client(loopback).endpoints.engage).to.equal(`${new URL(loopback).origin}/api/2.0/engage`)
      }

      for (const remote of [
        'http://10.255.255.1',
        'http://0.0.0.0:9',
        'http://mixpanel.com',
        'http://localhost.evil.example',
      ]) {
        expect(() => client(remote)).to.throw(UsageError, /plain http/)
        // Constructing the client connects to nothing: only the origin is checked.
        expect(client(remote, true).endpoints.export).to.equal(`${new URL(remote).origin}/api/2.0/export`)
      }

      for (const bad of ['ftp://127.0.0.1', 'file:///etc/passwd', 'not a url']) {
        expect(() => client(bad, true)).to.throw(UsageError)
      }
    })
  })
})
