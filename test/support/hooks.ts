/* eslint-disable mocha/no-exports, mocha/no-top-level-hooks, mocha/no-sibling-hooks -- helpers that register the hooks of their caller's describe block */
import {type ConfigFile, writeConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {FakeS3} from './fake-s3.js'
import type {OclifHome} from './plugins.js'

import {apiSecretEnv, CLI_ACCOUNT, type CliResult, NO_CONFIG_FILE, runMpx, serviceAccountEnv} from './cli.js'
import {type FakeMixpanel, type FakeMixpanelOptions, startFakeMixpanel} from './fake-mixpanel.js'
import {setEnvironment} from './temporary.js'

/**
 * The hooks of a describe block that talks to one fake Mixpanel: started before its tests (and
 * handed to `started`, e.g. to keep in the block's own variable), reset before each, closed after.
 */
export function useFakeMixpanel(options: FakeMixpanelOptions, started: (server: FakeMixpanel) => void): void {
  let server: FakeMixpanel | undefined
  before(async () => {
    server = await startFakeMixpanel(options)
    started(server)
  })

  after(async () => server?.close())

  beforeEach(() => server?.reset())
}

/**
 * The hooks of a describe block that uses one fake S3 through this process's environment: started
 * before its tests (and handed to `started`), its environment (`s3.env()`) set meanwhile, put back
 * and the server closed after.
 */
export function useFakeS3(started: (s3: FakeS3) => void): void {
  let s3: FakeS3 | undefined
  let restore: (() => void) | undefined
  before(async () => {
    // Loaded here: the AWS SDK only for the tests that use it.
    const {startFakeS3} = await import('./fake-s3.js')
    s3 = await startFakeS3()
    restore = setEnvironment(s3.env())
    started(s3)
  })

  after(async () => {
    restore?.()
    await s3?.close()
  })
}

/**
 * The hooks of a describe block whose every test gets a fresh directory (named from `prefix`),
 * removed after the test; `ready(dir)` runs before the test, e.g. to keep the path or fill it.
 */
export function useFreshDirectory(prefix: string, ready: (dir: string) => Promise<void> | void): void {
  useScratchDirectory('each test', prefix, ready)
}

/**
 * The hooks that make a scratch directory (named from `prefix`) before all the tests of a describe
 * block, or before each, and remove it after; `ready(dir)` runs once it is made.
 */
function useScratchDirectory(
  per: 'all tests' | 'each test',
  prefix: string,
  ready: (dir: string) => Promise<void> | void,
): void {
  const [setUp, tearDown] = per === 'each test' ? [beforeEach, afterEach] : [before, after]
  let dir: string | undefined
  setUp(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
    await ready(dir)
  })

  tearDown(async () => {
    if (dir) await rm(dir, {force: true, recursive: true})
  })
}

/**
 * The hooks of a describe block whose every test gets its own config file: the returned `env`
 * points MPX_CONFIG at `file` in a fresh directory (the same object, updated before each test), and
 * `ready(configFile)` runs first, e.g. to add accounts.
 */
export function useConfigFile(
  prefix: string,
  file = 'config.json',
  ready?: (configFile: string) => Promise<void>,
): {readonly env: {MPX_CONFIG: string}} {
  const env = {MPX_CONFIG: ''}
  useFreshDirectory(prefix, async (dir) => {
    env.MPX_CONFIG = join(dir, file)
    await ready?.(env.MPX_CONFIG)
  })
  return {env}
}

/**
 * The hooks of a describe block whose tests use the library as a user with this saved `config` (as
 * mpx auth:add writes it) and no credentials in the environment: before each test, MPX_CONFIG points
 * at it in a fresh directory, the MP_ variables are unset and `environment` is set; after it, all is
 * put back.
 */
export function useSavedConfig(config: ConfigFile, environment: Record<string, string> = {}): void {
  let restore: (() => void) | undefined
  useFreshDirectory('mpx-config-', async (dir) => {
    const file = join(dir, 'config.json')
    restore = setEnvironment({
      MP_API_SECRET: undefined,
      MP_PROJECT_ID: undefined,
      MP_REGION: undefined,
      MP_SECRET: undefined,
      MP_TIMEZONE: undefined,
      MP_USERNAME: undefined,
      MPX_CONFIG: file,
      ...environment,
    })
    await writeConfig(file, config)
  })
  afterEach(() => restore?.())
}

/** Runs the CLI (runMpx) with a fixture's `env`, and `extra` added. */
export type RunCli = (args: readonly string[], extra?: Record<string, string | undefined>) => Promise<CliResult>

/**
 * A describe block's fixture whose fields its hooks make: each read gives that field of `made()`,
 * which must be there by then (in a test, or a later hook); its `run` (there from the start, to
 * keep in a variable) runs the CLI with its `env`.
 */
function madeByHooks<T extends {readonly env: Record<string, string>}>(
  what: string,
  made: () => T | undefined,
): T & {readonly run: RunCli} {
  const now = (): T => {
    const fields = made()
    if (!fields) throw new Error(`${what}: its hooks make it before the tests, read it in a test`)
    return fields
  }

  const run: RunCli = (args, extra = {}) => runMpx(args, {env: {...now().env, ...extra}})
  return new Proxy({run} as T & {readonly run: RunCli}, {
    get: (target, key) => (key === 'run' ? target.run : now()[key as keyof T]),
  })
}

/** What useCliWithFakeMixpanel's hooks give each test (made before it starts). */
export interface CliWithFakeMixpanel {
  /** A fresh directory of the test's own, removed after it. */
  readonly directory: string
  /** The CLI's environment for `server` and `directory`. */
  readonly env: Record<string, string>
  readonly run: RunCli
  readonly server: FakeMixpanel
}

/**
 * The hooks of a describe block whose tests run the CLI against one fake Mixpanel (useFakeMixpanel),
 * each in a fresh directory (useFreshDirectory), with the environment `environment` gives for them
 * (e.g. apiSecretEnv or e2eEnv).
 */
export function useCliWithFakeMixpanel(
  options: FakeMixpanelOptions,
  environment: (server: FakeMixpanel, directory: string) => Record<string, string>,
): CliWithFakeMixpanel {
  let server: FakeMixpanel
  let current: Omit<CliWithFakeMixpanel, 'run'> | undefined
  useFakeMixpanel(options, (started) => {
    server = started
  })
  useFreshDirectory('mpx-test-', (directory) => {
    current = {directory, env: environment(server, directory), server}
  })
  return madeByHooks('useCliWithFakeMixpanel', () => current)
}

/** useCliWithFakeMixpanel for the service account CLI_ACCOUNT, the one the fake Mixpanel accepts. */
export function useServiceAccountCli(options: Omit<FakeMixpanelOptions, 'auth'>): CliWithFakeMixpanel {
  return useCliWithFakeMixpanel({...options, auth: CLI_ACCOUNT}, (server) => serviceAccountEnv(server.url, CLI_ACCOUNT))
}

/** What useDatabase's hooks give the tests of a describe block. */
export interface DatabaseFixture {
  /** The scratch directory that holds the database, for other files. */
  readonly directory: string
  /** The CLI's environment: no config file. */
  readonly env: Record<string, string>
  /** The database file. */
  readonly path: string
  readonly run: RunCli
}

/**
 * The hooks of a describe block whose tests run the CLI on a DuckDB database `name` in a scratch
 * directory, made by `fill(path)` once before all the tests, or before each test (`per: 'each test'`)
 * for tests that change it.
 */
export function useDatabase(
  name: string,
  fill: (path: string) => Promise<unknown>,
  per: 'all tests' | 'each test' = 'all tests',
): DatabaseFixture {
  let current: Omit<DatabaseFixture, 'run'> | undefined
  useScratchDirectory(per, 'mpx-db-', async (directory) => {
    current = {directory, env: {MPX_CONFIG: NO_CONFIG_FILE}, path: join(directory, name)}
    await fill(current.path)
  })
  return madeByHooks('useDatabase', () => current)
}

/** What useParquetCli's hooks give the tests of a describe block. */
export interface ParquetCli {
  /** The CLI's environment: an API secret the server accepts, the home, and the extra variables. */
  readonly env: Record<string, string>
  /** The oclif home the Parquet sink plugin is linked into; the tests' files go under its path. */
  readonly home: OclifHome
  readonly run: RunCli
  /** The fake Mixpanel, serving parquetFixture; reset before each test. */
  readonly server: FakeMixpanel
}

/**
 * The hooks of a describe block whose tests run the CLI with the Parquet sink plugin linked
 * (oclifHomeWithParquet) against one fake Mixpanel serving parquetFixture: made before the tests,
 * removed after. `extraEnv()` adds variables to the CLI's environment (e.g. a fake S3's, started
 * by an earlier hook).
 */
export function useParquetCli(extraEnv: () => Record<string, string> = () => ({})): ParquetCli {
  let current: Omit<ParquetCli, 'run'> | undefined
  before(async () => {
    // Loaded here: DuckDB (to read Parquet back) only for the tests that use it.
    const {oclifHomeWithParquet, parquetFixture} = await import('./plugins.js')
    const server = await startFakeMixpanel({auth: {apiSecret: 'x'}, ...parquetFixture})
    const home = await oclifHomeWithParquet()
    current = {env: apiSecretEnv(server.url, 'x', {...home.env, ...extraEnv()}), home, server}
  })

  after(async () => {
    await current?.server.close()
    await current?.home.remove()
  })

  beforeEach(() => current?.server.reset())
  return madeByHooks('useParquetCli', () => current)
}
