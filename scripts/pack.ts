/**
 * Packs mpx as `npm publish` would and installs the tarballs as users do, for the packaging tests
 * and the start-up measurement (scripts/startup.ts): the CLI (mpx-mixpanel) and the library it
 * depends on (mpx-mixpanel-core, packages/core), which the registry will have once published.
 *
 * `npm pack` runs in a copy of the repository (sources, not node_modules, which is linked), so that
 * its `prepack` (build, `oclif manifest`) never rewrites this checkout's dist/ under a concurrent
 * test run, nor leaves an oclif.manifest.json behind in it when interrupted.
 */
import {execFile} from 'node:child_process'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- scripts run on the repository's Node 24
import {cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, isAbsolute, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const run = promisify(execFile)

export const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)))

/** Where the library package, mpx-mixpanel-core, lives in the workspace. */
export const coreDirectory = 'packages/core'

/** The repository's package.json. */
export function packageJson(root = repoRoot): {name: string; version: string} {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {name: string; version: string}
}

/** Not part of a source tree: build output, dependencies, scratch files, and earlier packs. */
const notSources = new Set(['.git', 'dist', 'node_modules', 'oclif.manifest.json', 'tmp'])

/**
 * The environment for npm and for the installed mpx: this Node first on PATH (the bin's
 * `#!/usr/bin/env node` must find Node 24, not the system's), no update notices or audits.
 */
export function packagingEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
    PATH: `${dirname(process.execPath)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`,
    ...extra,
  }
}

/** Runs npm (the one on PATH) and returns its stdout; a failure throws with the end of its output. */
export async function npm(args: readonly string[], cwd: string, timeout = 300_000): Promise<string> {
  try {
    const {stdout} = await run('npm', args, {cwd, env: packagingEnv(), maxBuffer: 64 * 1024 * 1024, timeout})
    return stdout
  } catch (error) {
    // Lifecycle scripts (the build) report on stdout, npm on stderr: keep the end of both.
    const {stderr = '', stdout = ''} = error as {stderr?: string; stdout?: string}
    const tail = (text: string) => text.trim().split('\n').slice(-30).join('\n')
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${tail(stdout)}\n${tail(stderr) || String(error)}`)
  }
}

/** A fresh temporary directory. */
export function temporaryDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mpx-${prefix}-`))
}

/**
 * Copies the repository's sources (not dist/, .git/, scratch files) and links what its
 * node_modules directories hold (the root's, and those of workspaces such as plugins/*). The
 * links npm made to the workspace's own packages (node_modules/mpx-mixpanel-core ->
 * ../packages/core) are relative, and stay so: in the copy they lead to the copy's packages.
 */
export function copySources(root: string, destination: string): void {
  const modules: string[] = []
  cpSync(root, destination, {
    filter(source) {
      const path = relative(root, source)
      if (path === '') return true
      const parts = path.split(sep)
      const name = parts.at(-1) ?? ''
      if (name === 'node_modules') {
        if (!parts.slice(0, -1).includes('node_modules')) modules.push(path)
        return false
      }

      if (parts.includes('.git') || (parts.length === 1 && notSources.has(name))) return false
      return !name.endsWith('.tgz') && !name.includes('.duckdb')
    },
    recursive: true,
  })
  for (const path of modules) {
    mkdirSync(join(destination, path), {recursive: true})
    for (const entry of readdirSync(join(root, path), {withFileTypes: true})) {
      const source = join(root, path, entry.name)
      const link = entry.isSymbolicLink() ? readlinkSync(source) : undefined
      symlinkSync(link && !isAbsolute(link) ? link : source, join(destination, path, entry.name), 'junction')
    }
  }
}

/** The tarballs `npm publish` would send, one per package mpx ships. */
export interface Tarballs {
  /** mpx-mixpanel: the CLI and the library entry that re-exports core's. */
  cli: string
  /** mpx-mixpanel-core: the streaming library, which the CLI depends on. */
  core: string
}

/** `npm pack` of `directory` into `destination`, which must hold no other tarball. */
async function pack(directory: string, destination: string): Promise<string> {
  mkdirSync(destination, {recursive: true})
  await npm(['pack', '--pack-destination', destination], directory)
  const tarballs = readdirSync(destination).filter((name) => name.endsWith('.tgz'))
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${destination}`)
  return join(destination, tarballs[0])
}

/**
 * `npm pack` of the library package and of the repository, lifecycle scripts included (prepack
 * builds, and for the CLI writes the oclif manifest, which postpack removes). Returns the
 * tarballs' paths, in `destination`.
 */
export async function packTarballs(destination: string, root = repoRoot): Promise<Tarballs> {
  const sources = temporaryDirectory('sources')
  try {
    copySources(root, sources)
    const core = await pack(join(sources, coreDirectory), join(destination, 'core'))
    const cli = await pack(sources, join(destination, 'cli'))
    return {cli, core}
  } finally {
    rmSync(sources, {force: true, recursive: true})
  }
}

/**
 * `npm install -g --prefix <prefix> <core tarball> <cli tarball>`, as a user installs mpx (the
 * CLI's dependency on mpx-mixpanel-core is met by core's tarball, as by the registry once
 * published; the other dependencies come from the registry, or npm's cache when it has them).
 * Returns the installed CLI package's directory.
 */
export async function installTarballs(tarballs: Tarballs, prefix: string): Promise<string> {
  mkdirSync(prefix, {recursive: true})
  await npm(
    [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarballs.core,
      tarballs.cli,
    ],
    prefix,
  )
  const lib = process.platform === 'win32' ? prefix : join(prefix, 'lib')
  return join(lib, 'node_modules', packageJson().name)
}
