/**
 * The workspace's two packages: the library (mpx-mixpanel-core, packages/core) and the CLI that
 * depends on it (mpx-mixpanel). They are released together, and the library stays lean.
 */
import {expect} from 'chai'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- tests run on the repository's Node 24
import {globSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {coreDirectory, repoRoot} from '../../scripts/pack.js'
import {cliOnlyPackages} from '../support/packaging/package.js'

interface Manifest {
  dependencies?: Record<string, string>
  exports: Record<string, Record<string, string> | string>
  name: string
  version: string
}

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8')
const cli = JSON.parse(read('package.json')) as Manifest
const core = JSON.parse(read(join(coreDirectory, 'package.json'))) as Manifest

/** The module specifiers a TypeScript file imports (static and dynamic). */
function imports(path: string): string[] {
  return [...read(path).matchAll(/(?:from |import\()'([^']+)'/g)].map((match) => match[1])
}

describe('workspace: mpx-mixpanel-core and the CLI that depends on it', () => {
  it('the two share one version, and the CLI depends on core at exactly that version', () => {
    expect(core.version).to.equal(cli.version)
    expect(cli.dependencies?.[core.name]).to.equal(core.version)
  })

  it("core's dependencies include no oclif, DuckDB, ora or AWS package", () => {
    const dependencies = Object.keys(core.dependencies ?? {})
    expect(dependencies).to.include.members(['got', 'ajv'])
    expect(cliOnlyPackages(dependencies)).to.deep.equal([])
    expect(cliOnlyPackages(Object.keys(cli.dependencies ?? {}))).to.include('@oclif/core')
  })

  it('core exports its entry and its internal modules, each built or (under test) from source', () => {
    expect(Object.keys(core.exports)).to.deep.equal(['.', './internal/*.js', './package.json'])
    expect(core.exports['./internal/*.js']).to.deep.equal({
      default: './dist/*.js',
      'mpx-source': './src/*.ts',
      types: './dist/*.d.ts',
    })
  })

  it("core imports nothing of the CLI, and the CLI reaches core only through core's exports", () => {
    const coreFiles = globSync(`${coreDirectory}/src/**/*.ts`, {cwd: repoRoot})
    expect(coreFiles.length).to.be.greaterThan(30)
    for (const file of coreFiles) {
      const outside = imports(file).filter((specifier) => /^mpx-mixpanel(\/|$)|(\.\.\/){2,}src\//.test(specifier))
      expect(outside, file).to.deep.equal([])
    }

    const cliFiles = globSync('{src,test,bench,scripts}/**/*.ts', {cwd: repoRoot})
    for (const file of cliFiles) {
      const relative = imports(file).filter((specifier) => specifier.includes('packages/core'))
      expect(relative, file).to.deep.equal([])
    }
  })
})
