import {spawn} from 'node:child_process'
import {existsSync, lstatSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {packagingEnv, packTarballs, type Tarballs, temporaryDirectory} from '../../../scripts/pack.js'

/** Preload that writes every module the process loads to $MPX_MODULE_LOG (see the file). */
export const moduleRecorder = fileURLToPath(new URL('record-modules.mjs', import.meta.url))

let scratch: string | undefined
let tarballs: Promise<Tarballs> | undefined

/** A directory for this test process, removed when it exits. */
export function scratchDirectory(): string {
  if (!scratch) {
    const directory = temporaryDirectory('packaging-test')
    process.on('exit', () => rmSync(directory, {force: true, recursive: true}))
    scratch = directory
  }

  return scratch
}

/** The `npm pack` tarballs of this checkout (the CLI's and core's), packed once per test process. */
export async function packedTarballs(): Promise<Tarballs> {
  tarballs ??= packTarballs(join(scratchDirectory(), 'tarball'))
  return tarballs
}

export interface RunResult {
  code: null | number
  /**
   * Package names (`got`, `@duckdb/node-api`, `mpx-mixpanel-core`) and the CLI's own files
   * (`mpx/dist/...`), when recorded.
   */
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

/** The names of the packages a node_modules directory holds, nested ones included, sorted. */
export function installedPackages(nodeModules: string): string[] {
  const names = new Set<string>()
  const visit = (directory: string) => {
    if (!existsSync(directory)) return
    for (const entry of readdirSync(directory, {withFileTypes: true})) {
      if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue
      const path = join(directory, entry.name)
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(path)) {
          names.add(`${entry.name}/${scoped}`)
          visit(join(path, scoped, 'node_modules'))
        }

        continue
      }

      names.add(entry.name)
      visit(join(path, 'node_modules'))
    }
  }

  visit(nodeModules)
  return [...names].sort()
}

/** The bytes of the files under `directory` (as `du --apparent-size` counts, links not followed). */
export function directoryBytes(directory: string): number {
  let bytes = 0
  for (const entry of readdirSync(directory, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) bytes += lstatSync(join(entry.parentPath, entry.name)).size
  }

  return bytes
}

/** Packages a program that only streams must not install: the CLI's framework, DuckDB, the spinner, S3. */
export function cliOnlyPackages(names: readonly string[]): string[] {
  return names.filter((name) => /^(@oclif\/|oclif$|@duckdb\/|ora$|@aws-sdk\/|@smithy\/|npm$|yarn$)/.test(name))
}
