/** Temporary state for a test. */

import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A fresh temporary directory, removed by the returned function. */
export async function temporaryDirectory(): Promise<{path: string; remove: () => Promise<void>}> {
  const path = await mkdtemp(join(tmpdir(), 'mpx-test-'))
  return {path, remove: () => rm(path, {force: true, recursive: true})}
}
