import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {repoRoot} from '../../scripts/pack.js'
import {commandReference, generateCommandReference, replaceCommandReference, START, STOP} from '../../scripts/readme.js'

/** The first line where two texts differ, for a readable failure. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n')
  const b = expected.split('\n')
  const index = a.findIndex((line, i) => line !== b[i])
  const line = index === -1 ? b.length : index
  return `line ${line + 1} of the section: README has ${JSON.stringify(a[line])}, oclif readme gives ${JSON.stringify(b[line])}`
}

describe("README's command reference (oclif readme, npm run readme)", function () {
  this.timeout(120_000)

  it('replaces only the text between the markers', () => {
    const readme = `# x\n\nintro\n\n## Commands\n\n${START}\nold\n${STOP}\nafter\n`
    const updated = replaceCommandReference(readme, '\nnew\n')
    expect(updated).to.equal(`# x\n\nintro\n\n## Commands\n\n${START}\nnew\n${STOP}\nafter\n`)
    expect(commandReference(updated)).to.equal('\nnew\n')
    expect(commandReference('# no markers')).to.equal(undefined)
    expect(() => replaceCommandReference('# no markers', 'x')).to.throw(/no <!-- commands -->/)
  })

  it('is generated the same way on every machine: fixed width, no local paths', async () => {
    const reference = await generateCommandReference()
    expect(reference).to.include('### `mpx fetch:events FROM TO [TABLE]`')
    expect(reference).to.not.match(/\/home\/|\/Users\/|\/tmp\/|\/root\//)
    for (const line of reference.split('\n')) expect(line.length, line).to.be.at.most(125)
  })

  it('is up to date with the commands: otherwise run `npm run readme`', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
    const current = commandReference(readme)
    expect(current, `README.md needs a ${START} ... ${STOP} section`).to.be.a('string')
    const generated = await generateCommandReference()
    if (current !== generated) {
      expect.fail(
        `README.md's command reference is stale: run \`npm run readme\` (${firstDifference(current ?? '', generated)})`,
      )
    }
  })
})
