import {mkdir, readdir, rm, rmdir, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

/** Whether a process is alive (signal 0 probes without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A process that waits for a database file another process holds leaves a mark beside it (one
 * empty file per waiting process, named by its PID), so that a sync holding the file while it
 * fetches lets go of it instead of keeping readers out until its chunk is saved.
 */
export function waitingDirectory(path: string): string {
  return `${path}.waiting`
}

/** Waits in this process for each file (by resolved path): a library's query while it syncs. */
const waitingHere = new Map<string, number>()

/** Marks this process as waiting for `path`; the returned function takes the mark away. */
export async function markWaiting(path: string): Promise<() => Promise<void>> {
  const key = resolve(path)
  waitingHere.set(key, (waitingHere.get(key) ?? 0) + 1)
  /** Takes this wait away; true when no other of this process waits for the file. */
  const unmarkHere = () => {
    const count = (waitingHere.get(key) ?? 1) - 1
    if (count > 0) waitingHere.set(key, count)
    else waitingHere.delete(key)
    return count === 0
  }

  const directory = waitingDirectory(path)
  const mark = join(directory, String(process.pid))
  try {
    await mkdir(directory, {recursive: true})
    await writeFile(mark, '')
  } catch {
    // A directory this process may not write to: it waits all the same, unannounced to others.
    return async () => {
      unmarkHere()
    }
  }

  return async () => {
    if (!unmarkHere()) return
    await rm(mark, {force: true})
    // The last one out removes the directory (another waiting process's mark keeps it).
    await rmdir(directory).catch(() => {})
  }
}

/** Whether another live process, or another task of this one, is waiting for `path`. */
export async function othersWaiting(path: string): Promise<boolean> {
  if (waitingHere.has(resolve(path))) return true
  const directory = waitingDirectory(path)
  const names = await readdir(directory).catch(() => [])
  let waiting = false
  for (const name of names) {
    const pid = Number(name)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    if (isRunning(pid)) waiting = true
    // The mark of a process killed while it waited: nothing else removes it.
    else await rm(join(directory, name), {force: true}).catch(() => {})
  }

  return waiting
}
