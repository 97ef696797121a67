import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {repoRoot} from '../../scripts/pack.js'

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8')
const packageName = (path: string): string => (JSON.parse(read(path)) as {name: string}).name

/** Every capture of `pattern` in `text`. */
function captures(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((match) => match[1])
}

describe('package names in the docs are the published ones (package.json)', () => {
  const cli = packageName('package.json')
  const core = packageName('packages/core/package.json')
  const plugin = packageName('plugins/sink-parquet/package.json')
  const readme = read('README.md')

  it('the CLI, the library and the plugin have names of their own, and the command stays mpx', () => {
    expect(cli).to.equal('mpx-mixpanel')
    expect(core).to.equal('mpx-mixpanel-core')
    expect(plugin).to.equal('mpx-mixpanel-sink-parquet')
    expect(Object.keys((JSON.parse(read('package.json')) as {bin: object}).bin)).to.deep.equal(['mpx'])
  })

  it("README's library streams from the library package and stores with the CLI's", () => {
    const imports = captures(readme, /^import .* from '([^']+)'$/gm)
    expect(new Set(imports)).to.deep.equal(new Set([cli, core]))
    expect(readme).to.match(new RegExp(`^import \\{Mixpanel\\} from '${core}'$`, 'm'))
    expect(readme).to.match(new RegExp(`^import \\{Workspace\\} from '${cli}'$`, 'm'))
    expect(readme).to.include(`\`import {Mixpanel} from '${cli}'\` works as well`)
  })

  it("README's install lines name the CLI package, the library package and the plugin package", () => {
    expect(captures(readme, /npm install -g (\S+?)`?\s/g)).to.deep.equal([cli])
    expect(captures(readme, /^npm install (mpx\S*) +#/gm)).to.deep.equal([core, cli])
    const fromNpm = captures(readme, /^mpx plugins[ :]install (\S+) +# from npm$/gm)
    expect(fromNpm).to.deep.equal([plugin])
    const tarballs = captures(readme, /^mpx plugins[ :]install file:\.\/(\S+)-\d+\.\d+\.\d+\.tgz/gm)
    expect(tarballs).to.deep.equal([plugin])
  })

  it("the plugin's README and the sink guide use the same names", () => {
    const pluginReadme = read('plugins/sink-parquet/README.md')
    expect(pluginReadme.split('\n')[0]).to.equal(`# ${plugin}`)
    expect(captures(pluginReadme, /^mpx plugins[ :]install (\S+) +# from npm$/gm)).to.deep.equal([plugin])
    const guide = read('docs/writing-a-sink.md')
    // Imports of packages, not of node: built-ins or the example's own files.
    const imported = captures(`${guide}\n${pluginReadme}`, /from '([^'.][^':]*)'/g)
    expect(imported).to.not.be.empty
    expect(new Set(imported)).to.deep.equal(new Set([cli]))
  })

  it("the library package's README imports it by its name", () => {
    const coreReadme = read('packages/core/README.md')
    expect(coreReadme.split('\n')[0]).to.equal(`# ${core}`)
    expect(captures(coreReadme, /^npm install (\S+)$/gm)).to.deep.equal([core])
    expect(new Set(captures(coreReadme, /^import .* from '([^']+)'$/gm))).to.deep.equal(new Set([core]))
  })

  it("the Homebrew formula installs the CLI package's tarball", () => {
    const formula = read('packaging/homebrew/mpx.rb')
    expect(formula).to.include(`homepage "https://www.npmjs.com/package/${cli}"`)
    expect(formula).to.match(new RegExp(String.raw`url "https://registry\.npmjs\.org/${cli}/-/${cli}-[\d.]+\.tgz"`))
  })
})
