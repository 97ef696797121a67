/**
 * mpx-mixpanel-core as a workspace package: tests and the CLI's sources load one copy of it (its
 * TypeScript sources, through the `mpx-source` export condition that .mocharc.json enables), so a
 * class of core is the same class wherever it is imported from and `instanceof` holds.
 */
import {expect} from 'chai'
import {Mixpanel, MpxError as PublicMpxError} from 'mpx-mixpanel-core'
import {MpxError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {createRequire} from 'node:module'

import * as cliEntry from '../../src/index.js'
import {checkTableName} from '../../src/sinks/options.js'

describe('mpx-mixpanel-core in the workspace: one copy of each module', () => {
  it('resolves to its sources under test (the mpx-source condition), not to its build', () => {
    const where = (specifier: string) =>
      createRequire(import.meta.url)
        .resolve(specifier)
        .replaceAll('\\', '/')
    expect(where('mpx-mixpanel-core')).to.match(/\/packages\/core\/src\/index\.ts$/)
    expect(where('mpx-mixpanel-core/internal/errors.js')).to.match(/\/packages\/core\/src\/errors\.ts$/)
    expect(where('mpx-mixpanel-core/internal/mixpanel/export/source.js')).to.match(
      /\/packages\/core\/src\/mixpanel\/export\/source\.ts$/,
    )
  })

  it("the public entry, the internal subpaths and mpx-mixpanel's entry give the same classes", () => {
    expect(PublicMpxError).to.equal(MpxError)
    expect(cliEntry.MpxError).to.equal(MpxError)
    expect(cliEntry.UsageError).to.equal(UsageError)
    expect(cliEntry.Mixpanel).to.equal(Mixpanel)
  })

  it("an error the CLI's code throws with core's class is an instance of the class a test imports", () => {
    let thrown: unknown
    try {
      checkTableName('no such; table')
    } catch (error) {
      thrown = error
    }

    expect(thrown).to.be.instanceOf(UsageError)
    expect(thrown).to.be.instanceOf(PublicMpxError)
  })
})
