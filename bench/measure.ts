/**
 * Runs one measured command in a child process: wall time, CPU time and peak RSS (resident set
 * high-water mark) of the command itself, never of the benchmark's own process.
 */

import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface RunOptions {
  readonly args: readonly string[]
  readonly command: string
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Where stdout goes: a file path (default /dev/null). */
  readonly stdout?: string
  /** Give up after this long (default 15 minutes). */
  readonly timeoutMs?: number
}

export interface RunResult {
  readonly code: null | number
  /** CPU seconds (user + system), when known. */
  readonly cpuSeconds?: number
  /** Peak resident set of the command, in bytes, when known. */
  readonly peakRss?: number
  readonly seconds: number
  readonly stderr: string
}

const TIME = '/usr/bin/time'

/** How peak RSS is measured here: GNU time (wait4's rusage), else polling /proc/PID/status VmHWM. */
export function rssMethod(): 'none' | 'proc' | 'time' {
  if (existsSync(TIME)) return 'time'
  return existsSync('/proc/self/status') ? 'proc' : 'none'
}

async function pollHighWaterMark(pid: number, done: () => boolean): Promise<number | undefined> {
  let peak: number | undefined
  while (!done()) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8')
      const match = /VmHWM:\s+(\d+) kB/.exec(status)
      if (match) peak = Math.max(peak ?? 0, Number(match[1]) * 1024)
    } catch {
      break
    }

    await new Promise((resolve) => {
      setTimeout(resolve, 20)
    })
  }

  return peak
}

export async function run(options: RunOptions): Promise<RunResult> {
  const method = rssMethod()
  const scratch = await mkdtemp(join(tmpdir(), 'mpx-bench-time-'))
  const timeFile = join(scratch, 'time')
  const [command, args] =
    method === 'time'
      ? [TIME, ['-f', '%M %U %S', '-o', timeFile, options.command, ...options.args]]
      : [options.command, [...options.args]]
  const out = openSync(options.stdout ?? '/dev/null', 'w')
  const stderr: Buffer[] = []
  const started = performance.now()
  let exited = false
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: {...process.env, ...options.env},
      stdio: ['ignore', out, 'pipe'],
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      // Keep the end: errors come last; progress never appears without a terminal.
      stderr.push(chunk)
      if (stderr.length > 64) stderr.shift()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000)
    const polled = method === 'proc' && child.pid ? pollHighWaterMark(child.pid, () => exited) : undefined
    const code = await new Promise<null | number>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (exitCode) => resolve(exitCode))
    })
    exited = true
    clearTimeout(timer)
    const seconds = (performance.now() - started) / 1000
    let peakRss = await polled
    let cpuSeconds: number | undefined
    if (method === 'time') {
      // GNU time writes "Command exited with non-zero status N" first when the command failed.
      const text = await readFile(timeFile, 'utf8').catch(() => '')
      const last = text.trim().split('\n').pop() ?? ''
      const [kb, user, system] = last.split(' ').map(Number)
      if (Number.isFinite(kb)) peakRss = kb * 1024
      if (Number.isFinite(user) && Number.isFinite(system)) cpuSeconds = user + system
    }

    return {code, cpuSeconds, peakRss, seconds, stderr: Buffer.concat(stderr).toString('utf8')}
  } finally {
    closeSync(out)
    await rm(scratch, {force: true, recursive: true})
  }
}
