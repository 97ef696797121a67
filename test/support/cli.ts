import type {Readable} from 'node:stream'

import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {type ChildProcess, spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const binRun = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  code: null | number
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  stdin?: string
}

/**
 * Runs the built CLI (bin/run.js, as users run it) in a child process with a clean environment:
 * only PATH and HOME from this one, plus `env`.
 */
export async function runMpx(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [binRun, ...args], {
    env: {HOME: process.env.HOME, PATH: process.env.PATH, ...options.env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end(options.stdin ?? '')
  return outcome(child)
}

/** How a child process ended: its exit code or signal, and all it wrote on stdout and stderr. */
export async function outcome(
  child: Pick<ChildProcess, 'on'> & {stderr: Readable; stdout: Readable},
): Promise<CliResult> {
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const [code, signal] = await new Promise<[null | number, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]))
  })
  return {
    code,
    signal,
    stderr: Buffer.concat(stderr).toString('utf8'),
    stdout: Buffer.concat(stdout).toString('utf8'),
  }
}

/** A repeatable flag given once for each value: `-e A -e B`. */
export function repeatFlag(flag: string, values: readonly string[]): string[] {
  return values.flatMap((value) => [flag, value])
}

/** Lines of JSONL output, parsed. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown)
}

/** Lines of JSONL output, parsed with every digit of big integers kept (as BigInt). */
export function losslessJsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => parseLossless(line))
}

/**
 * Runs the CLI and closes its stdout after the first chunk, as `| head -1` does; resolves with the
 * exit code and stderr.
 */
export async function runMpxClosingStdout(
  args: readonly string[],
  options: CliOptions = {},
): Promise<Pick<CliResult, 'code' | 'stderr'>> {
  const child = spawn(process.execPath, [binRun, ...args], {
    env: {HOME: process.env.HOME, PATH: process.env.PATH, ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<null | number>((resolve) => {
    child.on('close', resolve)
  })
  return {code, stderr}
}

/** The service account of the command tests against a fake Mixpanel: its secret must never be printed. */
export const CLI_ACCOUNT = {secret: 'sEcReT-never-printed-42', username: 'svc'}

/** A config file that is not there: the CLI runs with no saved accounts. */
export const NO_CONFIG_FILE = '/nonexistent/mpx-test/config.json'

/**
 * The CLI's environment for a service account against a local fake Mixpanel: no config file,
 * retries without waiting. `extra` adds or overrides variables (e.g. temporary directories).
 */
export function serviceAccountEnv(
  url: string,
  account: {secret: string; username: string},
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MP_PROJECT_ID: '4242',
    MP_SECRET: account.secret,
    MP_USERNAME: account.username,
    MPX_API_URL: url,
    MPX_CONFIG: NO_CONFIG_FILE,
    MPX_RETRY_DELAY_MS: '1',
    ...extra,
  }
}

/** The same for a project's API secret (the fake Mixpanel's `auth: {apiSecret}`). */
export function apiSecretEnv(
  url: string,
  apiSecret: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {MP_API_SECRET: apiSecret, MPX_API_URL: url, MPX_CONFIG: NO_CONFIG_FILE, MPX_RETRY_DELAY_MS: '1', ...extra}
}
