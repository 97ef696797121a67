/**
 * `npm run bench [-- --quick] [-- --only stdout,memory] [-- --repeat N] [-- --events N]`
 *
 * Measures mpx against its baselines (see bench/bench.ts), prints a Markdown table and writes the
 * whole report as JSON under bench/results/. Needs a fresh build: `npm run build && npm run bench`.
 */
import {parseArgs} from 'node:util'

import {
  type BenchOptions,
  formatReport,
  fullOptions,
  quickOptions,
  runBench,
  saveReport,
  type ScenarioGroup,
  scenarioGroups,
} from './bench.js'

const {values} = parseArgs({
  options: {
    events: {type: 'string'},
    only: {type: 'string'},
    profiles: {type: 'string'},
    quick: {type: 'boolean'},
    repeat: {type: 'string'},
  },
})

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`)
  return n
}

const only = values.only?.split(',').map((group) => group.trim()) as ScenarioGroup[] | undefined
const unknown = only?.filter((group) => !scenarioGroups.includes(group))
if (unknown && unknown.length > 0)
  throw new Error(`--only: unknown ${unknown.join(', ')} (${scenarioGroups.join(', ')})`)
const base = values.quick ? quickOptions : fullOptions
const options: BenchOptions = {
  ...base,
  events: positive('events', values.events) ?? base.events,
  only,
  profiles: positive('profiles', values.profiles) ?? base.profiles,
  repeat: positive('repeat', values.repeat) ?? base.repeat,
}

const report = await runBench(options, (message) => process.stderr.write(`${message}\n`))
const file = await saveReport(report)
process.stdout.write(`${formatReport(report)}\n\nResults: ${file}\n`)
