/* eslint-disable mocha/no-exports, mocha/no-top-level-hooks, mocha/no-sibling-hooks -- helpers that register the hooks of their caller's describe block */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type FakeMixpanel, type FakeMixpanelOptions, startFakeMixpanel} from './fake-mixpanel.js'

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
 * The hooks of a describe block whose every test gets a fresh directory (named from `prefix`),
 * removed after the test; `ready(dir)` runs before the test, e.g. to keep the path or fill it.
 */
export function useFreshDirectory(prefix: string, ready: (dir: string) => Promise<void> | void): void {
  let dir: string | undefined
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
    await ready(dir)
  })

  afterEach(async () => {
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
