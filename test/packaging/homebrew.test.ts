import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {npm, packageJson} from '../../scripts/pack.js'
import {formulaPath, registryTarballUrl, renderFormulaForTarball} from '../../scripts/render-formula.js'
import {extractTarball, sha256File} from '../../scripts/tarball.js'
import {formulaChecks, formulaInstall} from '../support/packaging/formula.js'
import {packedTarballs, runCommand, scratchDirectory} from '../support/packaging/package.js'

const {name, version} = packageJson()
const formula = readFileSync(formulaPath, 'utf8')

/** Is `command` on PATH? (ruby is not on CI machines: its check then says so and is not run.) */
function available(command: string): boolean {
  return !spawnSync(command, ['--version'], {stdio: 'ignore'}).error
}

/** The environment of `brew test`: a fresh HOME, no credentials or mpx settings from this one. */
function testEnvironment(home: string): Record<string, string | undefined> {
  const cleared = Object.fromEntries(
    Object.keys(process.env)
      .filter((key) => /^(MP_|MPX_|XDG_)/.test(key))
      .map((key) => [key, undefined]),
  )
  return {...cleared, HOME: home}
}

describe('Homebrew formula (packaging/homebrew/mpx.rb)', function () {
  this.timeout(600_000)

  it("is in Homebrew's style for Node CLIs", () => {
    expect(formula).to.match(/^class Mpx < Formula$/m)
    expect(formula).to.match(/^ {2}desc "[^"]+"$/m)
    expect(formula).to.match(/^ {2}license "MIT"$/m)
    expect(formula).to.match(/^ {2}depends_on "node"$/m)
    expect(formula).to.include('    system "npm", "install", *std_npm_args\n')
    expect(formula).to.include('    bin.install_symlink Dir["#{libexec}/bin/*"]\n')
    expect(formula).to.match(/^ {2}test do$/m)
    for (const line of formula.split('\n')) expect(line.length, line).to.be.at.most(118)
    expect(formula).to.match(/\n$/)
  })

  it('renders for a packed tarball: the registry url of its version and its sha256', async () => {
    const tarball = (await packedTarballs()).cli
    const rendered = renderFormulaForTarball(tarball)
    const url = registryTarballUrl(name, version)
    expect(url).to.equal(`https://registry.npmjs.org/mpx-mixpanel/-/mpx-mixpanel-${version}.tgz`)
    expect(rendered).to.include(`  url "${url}"\n  sha256 "${sha256File(tarball)}"\n`)
    const stanzas = /^ {2}(url|sha256) ".*"$/gm
    expect(rendered.replaceAll(stanzas, '')).to.equal(formula.replaceAll(stanzas, ''))
    expect(renderFormulaForTarball(tarball, {url: 'https://example.com/mpx.tgz'})).to.include(
      'url "https://example.com/mpx.tgz"',
    )
  })

  it('is valid Ruby (ruby -c, when ruby is installed)', async () => {
    const rendered = join(scratchDirectory(), 'mpx.rb')
    writeFileSync(rendered, renderFormulaForTarball((await packedTarballs()).cli))
    // Blocks balance either way: class, def, do and if open what `end` closes.
    const opened = formula.match(/^\s*(class|def|if)\b|\bdo$/gm)?.length ?? 0
    expect(formula.match(/^\s*end$/gm)?.length).to.equal(opened)
    if (!available('ruby')) {
      console.log('      ruby is not installed: `ruby -c` of the formula not run (apt-get install ruby to run it)')
      return
    }

    for (const file of [formulaPath, rendered]) {
      const result = spawnSync('ruby', ['-c', file], {encoding: 'utf8'})
      expect(result.status, result.stderr).to.equal(0)
      expect(result.stdout).to.include('Syntax OK')
    }
  })

  describe('its install and test steps, as `brew install` runs them', () => {
    let buildpath: string
    let prefix: string
    let bin: string

    before(async () => {
      const steps = formulaInstall(formula)
      const root = join(scratchDirectory(), 'homebrew')
      buildpath = join(root, 'buildpath')
      prefix = join(root, 'Cellar', name, version)
      const libexec = join(prefix, 'libexec')
      bin = join(prefix, 'bin')
      mkdirSync(buildpath, {recursive: true})
      // brew unpacks the url's tarball and works in its top directory (package/).
      extractTarball((await packedTarballs()).cli, buildpath)
      // std_npm_args: Language::Node.pack_for_installation drops the pack lifecycle scripts, packs
      // with --ignore-scripts, and npm installs that tarball globally into libexec.
      const manifest = JSON.parse(readFileSync(join(buildpath, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>
      }
      for (const script of ['prepare', 'prepack', 'postpack']) delete manifest.scripts?.[script]
      writeFileSync(join(buildpath, 'package.json'), JSON.stringify(manifest, null, 2))
      const pack = (await npm(['pack', '--ignore-scripts'], buildpath)).trim().split('\n').at(-1) ?? ''
      mkdirSync(join(libexec, 'lib'), {recursive: true})
      // mpx-mixpanel-core comes from the registry once published; until then, from its tarball.
      await npm(
        [
          'install',
          '--global',
          '--build-from-source',
          '--ignore-scripts',
          '--prefer-offline',
          `--prefix=${libexec}`,
          (await packedTarballs()).core,
          join(buildpath, pack),
        ],
        buildpath,
      )
      // bin.install_symlink Dir["#{libexec}/bin/*"]
      mkdirSync(bin, {recursive: true})
      for (const file of readdirSync(join(libexec, 'bin'))) symlinkSync(join(libexec, 'bin', file), join(bin, file))
      // The completions: ENV[...] = buildpath/..., system bin/"mpx", ..., *_completion.install.
      const generated = await runCommand(join(bin, 'mpx'), steps.generate, {
        env: {...testEnvironment(join(root, 'home')), [steps.env.name]: join(buildpath, steps.env.path)},
      })
      expect(generated.code, generated.stderr).to.equal(0)
      const bashCompletion = join(prefix, 'etc', 'bash_completion.d', steps.bashCompletion.as)
      const zshCompletion = join(prefix, 'share', 'zsh', 'site-functions', basename(steps.zshCompletion.from))
      for (const [from, to] of [
        [steps.bashCompletion.from, bashCompletion],
        [steps.zshCompletion.from, zshCompletion],
      ]) {
        mkdirSync(dirname(to), {recursive: true})
        copyFileSync(join(buildpath, from), to)
      }
    })

    it('links mpx into bin, running from libexec', () => {
      expect(readdirSync(bin)).to.deep.equal(['mpx'])
      expect(realpathSync(join(bin, 'mpx'))).to.equal(
        realpathSync(join(prefix, 'libexec', 'lib', 'node_modules', name, 'bin', 'run.js')),
      )
    })

    it('installs bash and zsh completions that know the commands and their flags', () => {
      const bash = readFileSync(join(prefix, 'etc', 'bash_completion.d', 'mpx'), 'utf8')
      expect(bash).to.match(/^complete .*\bmpx$/m)
      expect(bash).to.match(/^fetch:events .*--stdout/m)
      if (available('bash')) {
        const syntax = spawnSync('bash', ['-n', join(prefix, 'etc', 'bash_completion.d', 'mpx')], {encoding: 'utf8'})
        expect(syntax.status, syntax.stderr).to.equal(0)
      }

      const zsh = readFileSync(join(prefix, 'share', 'zsh', 'site-functions', '_mpx'), 'utf8')
      expect(zsh).to.match(/^#compdef mpx$/m)
      expect(zsh).to.include(String.raw`fetch\:events`)
    })

    it("passes the formula's test block", async () => {
      const testpath = join(scratchDirectory(), 'homebrew', 'testpath')
      mkdirSync(testpath, {recursive: true})
      const checks = formulaChecks(formula, {bin, version})
      expect(checks.length).to.be.at.least(2)
      for (const check of checks) {
        const result = await runCommand('sh', ['-c', check.command], {cwd: testpath, env: testEnvironment(testpath)})
        expect(result.code, `${check.command}\n${result.stderr}`).to.equal(check.status)
        expect(result.stdout, check.command).to.include(check.match)
      }

      expect(existsSync(join(testpath, '.config', 'mpx', 'config.json'))).to.equal(false)
    })
  })
})
