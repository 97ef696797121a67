/** Temporary state for a test: a scratch directory, and environment variables put back afterwards. */

import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A fresh temporary directory, removed by the returned function. */
export async function temporaryDirectory(): Promise<{path: string; remove: () => Promise<void>}> {
  const path = await mkdtemp(join(tmpdir(), 'mpx-test-'))
  return {path, remove: () => rm(path, {force: true, recursive: true})}
}

/** Sets these environment variables (deletes those given as undefined); the returned function puts back what was there. */
export function setEnvironment(values: Readonly<Record<string, string | undefined>>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]))
  assignEnvironment(values)
  return () => assignEnvironment(saved)
}

function assignEnvironment(values: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
}
