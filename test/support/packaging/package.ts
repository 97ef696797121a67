import {spawn} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {packagingEnv, packTarball, temporaryDirectory} from '../../../scripts/pack.js'

/** Preload that writes every module the process loads to $MPX_MODULE_LOG (see the file). */
export const moduleRecorder = fileURLToPath(new URL('record-modules.mjs', import.meta.url))

let scratch: string | undefined
let tarball: Promise<string> | undefined

/** A directory for this test process, removed when it exits. */
export function scratchDirectory(): string {
  if (!scratch) {
    const directory = temporaryDirectory('packaging-test')
    process.on('exit', () => rmSync(directory, {force: true, recursive: true}))
    scratch = directory
  }

  return scratch
}

/** The `npm pack` tarball of this checkout, packed once per test process. */
export async function packedTarball(): Promise<string> {
  tarball ??= packTarball(join(scratchDirectory(), 'tarball'))
  return tarball
}

export interface RunResult {
  code: null | number
  /** Package names (`got`, `@duckdb/node-api`) and mpx's own files (`mpx/dist/...`), when recorded. */
  loaded: string[]
  stderr: string
  stdout: string
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  /** Record the modules the process loads (with ./record-modules.mjs). */
  record?: boolean
}

/** Runs `command args` (no shell) in the packaging environment and collects its output. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions & {cwd?: string} = {},
): Promise<RunResult> {
  const log = options.record ? join(scratchDirectory(), `modules-${process.hrtime.bigint()}.txt`) : undefined
  const recorder = log ? ['--import', moduleRecorder] : []
  const child = spawn(command, [...recorder, ...args], {
    cwd: options.cwd,
    env: packagingEnv({...options.env, MPX_MODULE_LOG: log}),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const code = await new Promise<null | number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  return {
    code,
    loaded: log ? loadedPackages(readFileSync(log, 'utf8')) : [],
    stderr: Buffer.concat(stderr).toString('utf8'),
    stdout: Buffer.concat(stdout).toString('utf8'),
  }
}

/** Runs a script with this Node (24), optionally recording the modules it loads. */
export async function runNode(script: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(process.execPath, [script, ...args], options)
}

/**
 * What a module log names: for a file under node_modules, its package (`got`, `@duckdb/node-api`);
 * for a file of the package mpx-mixpanel (installed), `mpx/<path>`.
 */
export function loadedPackages(log: string): string[] {
  const names = new Set<string>()
  for (const url of log.split('\n')) {
    if (!url.startsWith('file:')) continue
    const path = fileURLToPath(url).replaceAll('\\', '/')
    const inModules = path.lastIndexOf('/node_modules/')
    if (inModules === -1) {
      names.add(`local:${path}`)
      continue
    }

    const [scope = '', name = '', ...rest] = path.slice(inModules + '/node_modules/'.length).split('/')
    if (scope === 'mpx-mixpanel') names.add(`mpx/${[name, ...rest].join('/')}`)
    else names.add(scope.startsWith('@') ? `${scope}/${name}` : scope)
  }

  return [...names].sort()
}

/**
 * Modules too heavy to load before a command needs them: DuckDB's bindings, the HTTP client, the
 * spinner, the AWS SDK (only for s3:// targets).
 */
export function heavyModules(loaded: readonly string[]): string[] {
  return loaded.filter(
    (name) =>
      name.startsWith('@duckdb/') ||
      name.startsWith('@aws-sdk/') ||
      name.startsWith('@smithy/') ||
      name === 'got' ||
      name === 'ora',
  )
}
