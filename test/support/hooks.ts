/* eslint-disable mocha/no-exports, mocha/no-top-level-hooks, mocha/no-sibling-hooks -- helpers that register the hooks of their caller's describe block */
import {type ConfigFile, writeConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CLI_ACCOUNT, type CliResult, NO_CONFIG_FILE, runMpx, serviceAccountEnv} from './cli.js'
import {type FakeMixpanel, type FakeMixpanelOptions, startFakeMixpanel} from './fake-mixpanel.js'
import {type FakeS3, startFakeS3} from './fake-s3.js'
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

/** What useCliWithFakeMixpanel's hooks give each test (set before it starts). */
export interface CliWithFakeMixpanel {
  /** A fresh directory of the test's own, removed after it. */
  readonly directory: string
  /** The CLI's environment for `server` and `directory`. */
  readonly env: Record<string, string>
  /** Runs the CLI (runMpx) with `env`, and `extra` added. */
  run(args: readonly string[], extra?: Record<string, string | undefined>): Promise<CliResult>
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
  const now = () => {
    if (!current) throw new Error('useCliWithFakeMixpanel: its directory and environment are made before each test')
    return current
  }

  return {
    get directory() {
      return now().directory
    },
    get env() {
      return now().env
    },
    run: (args, extra = {}) => runMpx(args, {env: {...now().env, ...extra}}),
    get server() {
      return now().server
    },
  }
}

/** useCliWithFakeMixpanel for the service account CLI_ACCOUNT, the one the fake Mixpanel accepts. */
export function useServiceAccountCli(options: Omit<FakeMixpanelOptions, 'auth'>): CliWithFakeMixpanel {
  return useCliWithFakeMixpanel({...options, auth: CLI_ACCOUNT}, (server) => serviceAccountEnv(server.url, CLI_ACCOUNT))
}

/** What useDatabase's hooks give the tests of a describe block. */
export interface DatabaseFixture {
  /** The scratch directory that holds the database, for other files. */
  readonly directory: string
  /** The database file. */
  readonly path: string
  /** Runs the CLI (runMpx) with no config file. */
  run(args: readonly string[]): Promise<CliResult>
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
  let directory: string | undefined
  useScratchDirectory(per, 'mpx-db-', async (dir) => {
    directory = dir
    await fill(join(dir, name))
  })
  const made = () => {
    if (!directory) throw new Error('useDatabase: the database is made before the tests')
    return directory
  }

  return {
    get directory() {
      return made()
    },
    get path() {
      return join(made(), name)
    },
    run: (args) => runMpx(args, {env: {MPX_CONFIG: NO_CONFIG_FILE}}),
  }
}
