/**
 * Measures mpx's start-up as users meet it: packs and installs the package (commands load from the
 * oclif manifest), then times `mpx --version` and `mpx fetch:events --help` against a bare
 * `node -e ""`, and the same commands from this checkout (no manifest: every command is imported).
 *
 *   npm run startup [-- --runs 30] [-- --installed <dir of an installed mpx>]
 *
 * Uses hyperfine when it is installed, else times the processes itself. Prints a Markdown table.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {cpus} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {installTarballs, packagingEnv, packTarballs, repoRoot, temporaryDirectory} from './pack.js'

interface Case {
  args: string[]
  label: string
}

interface Timing {
  /** User + system CPU seconds, when hyperfine measured them. */
  cpu?: number
  mean: number
  median: number
  min: number
  stddev: number
}

function summarize(seconds: number[]): Timing {
  const sorted = seconds.toSorted((a, b) => a - b)
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length
  const variance = sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, sorted.length - 1)
  const middle = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  return {mean, median, min: sorted[0], stddev: Math.sqrt(variance)}
}

function hasHyperfine(): boolean {
  return !spawnSync('hyperfine', ['--version'], {stdio: 'ignore'}).error
}

function withHyperfine(cases: Case[], runs: number, scratch: string): Timing[] {
  const json = join(scratch, 'hyperfine.json')
  const quote = (arg: string) => (/^[\w./:=-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", String.raw`'\''`)}'`)
  execFileSync(
    'hyperfine',
    [
      '--shell=none',
      '--warmup',
      '3',
      '--runs',
      String(runs),
      '--export-json',
      json,
      ...cases.map(({args}) => [process.execPath, ...args].map((arg) => quote(arg)).join(' ')),
    ],
    {env: packagingEnv(), stdio: ['ignore', 'ignore', 'inherit']},
  )
  const {results} = JSON.parse(readFileSync(json, 'utf8')) as {
    results: {system: number; times: number[]; user: number}[]
  }
  return results.map(({system, times, user}) => ({...summarize(times), cpu: user + system}))
}

function withNode(cases: Case[], runs: number): Timing[] {
  return cases.map(({args}) => {
    const times: number[] = []
    for (let index = 0; index < runs + 3; index++) {
      const started = performance.now()
      const result = spawnSync(process.execPath, args, {env: packagingEnv(), stdio: 'ignore'})
      if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`)
      if (index >= 3) times.push((performance.now() - started) / 1000)
    }

    return summarize(times)
  })
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {installed: {type: 'string'}, runs: {default: '30', type: 'string'}}})
  const runs = Number(values.runs)
  const scratch = temporaryDirectory('startup')
  try {
    let {installed} = values
    if (!installed) {
      process.stderr.write('Packing and installing mpx...\n')
      installed = await installTarballs(await packTarballs(join(scratch, 'tarball')), join(scratch, 'prefix'))
    }

    const bin = join(installed, 'bin', 'run.js')
    const checkout = join(repoRoot, 'bin', 'run.js')
    const cases: Case[] = [
      {args: ['-e', ''], label: '`node -e ""`'},
      {args: [bin, '--version'], label: '`mpx --version`'},
      {args: [bin, 'fetch:events', '--help'], label: '`mpx fetch:events --help`'},
      {args: [checkout, '--version'], label: '`mpx --version`, from a checkout (no manifest)'},
      {args: [checkout, 'fetch:events', '--help'], label: '`mpx fetch:events --help`, from a checkout'},
    ]
    const tool = hasHyperfine() ? 'hyperfine' : 'a Node timing loop'
    const timings = tool === 'hyperfine' ? withHyperfine(cases, runs, scratch) : withNode(cases, runs)
    const ms = (seconds: number) => (seconds * 1000).toFixed(0)
    const base = timings[0].median
    const lines = [
      `Node ${process.version}, ${process.platform}-${process.arch}, ${cpus()[0]?.model ?? 'unknown CPU'}; ` +
        `${runs} runs each with ${tool}.`,
      '',
      '| command | median (ms) | min (ms) | mean ± σ (ms) | CPU user+sys (ms) | median over `node -e ""` (ms) |',
      '| --- | --: | --: | --: | --: | --: |',
      ...cases.map(({label}, index) => {
        const timing = timings[index]
        const over = index === 0 ? '' : `+${ms(timing.median - base)}`
        const cpu = timing.cpu === undefined ? '' : ms(timing.cpu)
        const mean = `${ms(timing.mean)} ± ${ms(timing.stddev)}`
        return `| ${label} | ${ms(timing.median)} | ${ms(timing.min)} | ${mean} | ${cpu} | ${over} |`
      }),
    ]
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    rmSync(scratch, {force: true, recursive: true})
  }
}

await main()
