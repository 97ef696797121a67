/**
 * The library's API reference (`npm run docs`, TypeDoc) is generated from the types, so it cannot
 * go stale; this checks that it builds without a warning and holds what the README points to.
 */
import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {repoRoot} from '../../scripts/pack.js'
import {temporaryDirectory} from '../support/temporary.js'

interface Reflection {
  children?: Reflection[]
  comment?: unknown
  name: string
  signatures?: Array<{comment?: unknown}>
}

describe('API reference (TypeDoc)', function () {
  this.timeout(120_000)

  it('builds from the types without warnings, with Workspace and Mixpanel documented', async () => {
    const directory = await temporaryDirectory()
    try {
      const json = join(directory.path, 'api.json')
      const typedoc = join(repoRoot, 'node_modules', '.bin', 'typedoc')
      await promisify(execFile)(typedoc, ['--json', json, '--treatWarningsAsErrors'], {cwd: repoRoot})
      const project = JSON.parse(await readFile(json, 'utf8')) as Reflection
      const top = new Map((project.children ?? []).map((child) => [child.name, child]))
      for (const name of ['Workspace', 'Mixpanel', 'WorkspaceOptions', 'FetchEventsOptions', 'MpxError']) {
        expect(top.has(name), name).to.equal(true)
      }

      const methods = new Map((top.get('Workspace')!.children ?? []).map((child) => [child.name, child]))
      for (const name of ['fetchEvents', 'fetchProfiles', 'syncEvents', 'syncProfiles', 'sql', 'sqlRows']) {
        expect(methods.get(name)?.signatures?.[0]?.comment, `Workspace.${name} is documented`).to.not.equal(undefined)
      }
    } finally {
      await directory.remove()
    }
  })
})
