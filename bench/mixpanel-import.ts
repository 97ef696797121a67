/**
 * The npm peer users would pick instead of mpx for a raw export to a file: `mixpanel-import`'s
 * event export (recordType "export"), pointed at the benchmark server. It has no option for another
 * host: its export URL comes from the `url` getter of its Job class, overridden here. It is not a
 * dependency of mpx: the benchmark installs it on demand into a cache directory (bench/peers.ts)
 * and passes that directory. Standalone (run by plain `node`, which strips the types).
 *
 * Usage: node bench/mixpanel-import.ts '{"packageDir":"…/node_modules/mixpanel-import","exportUrl":"…",
 *   "acct":"…","pass":"…","project":"…","from":"YYYY-MM-DD","to":"YYYY-MM-DD","file":"…"}'
 */
import {createRequire} from 'node:module'
import {join} from 'node:path'

interface Job {
  acct: string
  /** The export endpoint to use instead of Mixpanel's. */
  exportUrl: string
  file: string
  from: string
  /** The installed package's own directory. */
  packageDir: string
  pass: string
  project: string
  to: string
}

type Main = (creds: object, data: unknown, options: object) => Promise<{success?: number}>

const job = JSON.parse(process.argv[2] ?? '{}') as Job
const load = createRequire(join(job.packageDir, 'package.json'))
// The same module instance index.js requires: its jobs then ask this getter for their URL.
const JobClass = load('./components/job.js') as {prototype: object}
Object.defineProperty(JobClass.prototype, 'url', {
  configurable: true,
  get: () => job.exportUrl,
})
const main = load('./index.js') as Main
const result = await main(
  {acct: job.acct, pass: job.pass, project: job.project},
  undefined,
  // One request for the whole range (what it does); no log files, no progress bar.
  {
    end: job.to,
    logs: false,
    recordType: 'export',
    showProgress: false,
    start: job.from,
    verbose: false,
    where: job.file,
  },
)
process.stderr.write(`${JSON.stringify({records: result.success})}\n`)
