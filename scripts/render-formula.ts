/**
 * Renders the Homebrew formula for a release from its packed tarball: the formula's `url` (the npm
 * registry's address of that version, unless --url) and `sha256` (of the tarball).
 *
 *   npm pack && npm publish mpx-mixpanel-X.Y.Z.tgz
 *   npm run formula -- mpx-mixpanel-X.Y.Z.tgz            # rewrites packaging/homebrew/mpx.rb
 *   npm run formula -- mpx-mixpanel-X.Y.Z.tgz --output - # prints it instead
 *
 * Publish the very tarball given here (not a second `npm pack`), so that the sha256 matches what
 * the registry serves.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {repoRoot} from './pack.js'
import {sha256File, tarballPackage} from './tarball.js'

export const formulaPath = join(repoRoot, 'packaging', 'homebrew', 'mpx.rb')

export interface FormulaSource {
  sha256: string
  url: string
}

/** Where the npm registry serves a version's tarball. */
export function registryTarballUrl(name: string, version: string): string {
  const file = name.includes('/') ? name.split('/')[1] : name
  return `https://registry.npmjs.org/${name}/-/${file}-${version}.tgz`
}

function replaceStanza(formula: string, stanza: 'sha256' | 'url', value: string): string {
  const pattern = new RegExp(`^(\\s+${stanza} )"[^"]*"$`, 'm')
  if (!pattern.test(formula)) throw new Error(`The formula has no ${stanza} "..." line`)
  return formula.replace(pattern, (_line, start: string) => `${start}"${value}"`)
}

/** The formula with its url and sha256 replaced; everything else as it is. */
export function renderFormula(formula: string, source: FormulaSource): string {
  if (!/^[\da-f]{64}$/.test(source.sha256)) throw new Error(`Not a SHA-256: ${source.sha256}`)
  return replaceStanza(replaceStanza(formula, 'url', source.url), 'sha256', source.sha256)
}

/** The formula for a tarball: url from the tarball's name and version (or `url`), its sha256. */
export function renderFormulaForTarball(tarball: string, options: {formula?: string; url?: string} = {}): string {
  const {name, version} = tarballPackage(tarball)
  const formula = options.formula ?? readFileSync(formulaPath, 'utf8')
  return renderFormula(formula, {sha256: sha256File(tarball), url: options.url ?? registryTarballUrl(name, version)})
}

function main(): void {
  const {positionals, values} = parseArgs({
    allowPositionals: true,
    options: {output: {default: formulaPath, type: 'string'}, url: {type: 'string'}},
  })
  const [tarball] = positionals
  if (!tarball || positionals.length > 1) {
    process.stderr.write('Usage: render-formula <tarball.tgz> [--url URL] [--output FILE|-]\n')
    process.exitCode = 2
    return
  }

  const rendered = renderFormulaForTarball(tarball, {url: values.url})
  if (values.output === '-') process.stdout.write(rendered)
  else {
    writeFileSync(values.output, rendered)
    process.stderr.write(`Wrote ${values.output}\n`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
