/**
 * The README's command reference: `oclif readme` output for the built commands, between the
 * `<!-- commands -->` and `<!-- commandsstop -->` markers at the end of README.md.
 *
 *   npm run readme                                # build, then rewrite that section
 *   node --import tsx scripts/readme.ts --check   # exit 1 when the section is stale
 *
 * Generated in a fixed environment (120 columns, an empty HOME, no mpx settings, compiled
 * commands), so the text depends on the commands only, never on the machine.
 */
import {execFile} from 'node:child_process'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {repoRoot, temporaryDirectory} from './pack.js'

const run = promisify(execFile)

export const START = '<!-- commands -->'
export const STOP = '<!-- commandsstop -->'

/** The text between the markers (exclusive), or undefined when README has no markers. */
export function commandReference(readme: string): string | undefined {
  const start = readme.indexOf(START)
  const stop = readme.indexOf(STOP)
  if (start === -1 || stop < start) return undefined
  return readme.slice(start + START.length, stop)
}

/** README with the text between the markers replaced. */
export function replaceCommandReference(readme: string, reference: string): string {
  const start = readme.indexOf(START)
  const stop = readme.indexOf(STOP)
  if (start === -1 || stop < start) throw new Error(`README.md has no ${START} ... ${STOP} section`)
  return readme.slice(0, start + START.length) + reference + readme.slice(stop)
}

/** Generates the reference with `oclif readme` from the compiled commands (dist/: build first). */
export async function generateCommandReference(root = repoRoot): Promise<string> {
  const scratch = temporaryDirectory('readme')
  try {
    const readme = join(scratch, 'README.md')
    writeFileSync(readme, `# mpx\n\n${START}\n${STOP}\n`)
    mkdirSync(join(scratch, 'home'))
    const oclif = join(root, 'node_modules', 'oclif', 'bin', 'run.js')
    await run(process.execPath, [oclif, 'readme', '--readme-path', readme, '--no-source-links', '--no-aliases'], {
      cwd: root,
      env: {
        COLUMNS: '120',
        HOME: join(scratch, 'home'),
        LANG: 'C',
        NODE_ENV: 'production',
        OCLIF_SKIP_NEW_VERSION_CHECK: 'true',
        PATH: process.env.PATH,
      },
      timeout: 120_000,
    })
    const reference = commandReference(readFileSync(readme, 'utf8'))
    if (reference === undefined) throw new Error('oclif readme dropped the markers')
    // One level below the README's "## Commands" heading.
    return reference.replaceAll(/^## `/gm, '### `')
  } finally {
    rmSync(scratch, {force: true, recursive: true})
  }
}

async function main(): Promise<void> {
  const path = join(repoRoot, 'README.md')
  const readme = readFileSync(path, 'utf8')
  const reference = await generateCommandReference()
  if (process.argv.includes('--check')) {
    if (commandReference(readme) === reference) return
    process.stderr.write("README.md's command reference is stale: run `npm run readme`\n")
    process.exitCode = 1
    return
  }

  writeFileSync(path, replaceCommandReference(readme, reference))
  process.stderr.write('Updated the command reference in README.md\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
