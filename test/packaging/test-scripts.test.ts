/**
 * `npm test` (what CI runs) runs every test, split into `test:unit`, `test:e2e` and
 * `test:packaging` that can be run alone; and `npm ci` says what a user needs to see.
 */
import {expect} from 'chai'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- tests run on the repository's Node 24
import {globSync, readFileSync} from 'node:fs'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- tests run on the repository's Node 24
import {join, matchesGlob} from 'node:path'

import {repoRoot} from '../../scripts/pack.js'

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  allowScripts: Record<string, boolean>
  scripts: Record<string, string>
}

/** The test files a `mocha 'GLOB' [--exclude 'GLOB']` script runs. */
function filesOf(script: string): string[] {
  const [spec, ...excludes] = [...script.matchAll(/'([^']+)'/g)].map((match) => match[1])
  expect(script).to.match(/^mocha '[^']+'( --exclude '[^']+')*$/)
  return globSync(spec, {cwd: repoRoot})
    .filter((file) => !excludes.some((exclude) => matchesGlob(file, exclude)))
    .sort()
}

describe('test scripts and set-up', () => {
  const groups = ['unit', 'e2e', 'packaging'] as const

  it('npm test builds, type-checks, runs the three groups and lints', () => {
    expect(pkg.scripts.test).to.equal(
      'npm run build && npm run typecheck && npm run mocha:unit && npm run mocha:e2e && npm run mocha:packaging && npm run lint',
    )
    for (const group of groups) {
      expect(pkg.scripts[`test:${group}`]).to.equal(`npm run build && npm run mocha:${group}`)
    }
  })

  it('every test file is in exactly one group', () => {
    const all = globSync('test/**/*.test.ts', {cwd: repoRoot}).sort()
    const inGroups = groups.flatMap((group) => filesOf(pkg.scripts[`mocha:${group}`]))
    expect(inGroups.sort()).to.deep.equal(all)
    expect(filesOf(pkg.scripts['mocha:unit'])).to.include('test/core/index.test.ts')
    expect(filesOf(pkg.scripts['mocha:e2e'])).to.include('test/e2e/fault-matrix.test.ts')
    expect(filesOf(pkg.scripts['mocha:packaging'])).to.include('test/packaging/pack.test.ts')
  })

  it("npm ci shows errors but not npm's warnings about the Node it runs on, nor yarn's install script", () => {
    const npmrc = readFileSync(join(repoRoot, '.npmrc'), 'utf8')
    const settings = npmrc.split('\n').filter((line) => line.trim() && !line.startsWith('#'))
    expect(settings).to.include('loglevel=error')
    expect(settings.join('\n')).to.not.match(/loglevel=silent|ignore-scripts|strict-allow-scripts=false/)
    // oclif's dependency on yarn brings a preinstall script mpx does not need: denied, not pending.
    expect(pkg.allowScripts.yarn).to.equal(false)
  })
})
