import {mkdir, readdir, rename, rm, rmdir, stat} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'

/** `.mpx-tmp-<table>-<pid>-XXXXXX`: a fetch's working directory, beside the table's. */
export const TEMP_PREFIX = '.mpx-tmp-'
const TEMP_NAME = /^\.mpx-tmp-\w+-(\d+)-[\w-]{6}$/

export async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Files under `root`, as paths relative to it, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  if (!(await isDirectory(root))) return []
  const entries = await readdir(root, {recursive: true, withFileTypes: true})
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort()
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes working directories left by fetches that were killed (kill -9, a power cut) before they
 * could clean up: those whose process is gone.
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => [])
  await Promise.all(
    entries.map(async (entry) => {
      const pid = TEMP_NAME.exec(entry.name)?.[1]
      if (entry.isDirectory() && pid && Number(pid) !== process.pid && !alive(Number(pid))) {
        await rm(join(dir, entry.name), {force: true, recursive: true})
      }
    }),
  )
}

/**
 * Moves every file of `from` into the same place under `to`, creating directories as needed, and
 * never over an existing file. On failure, what was moved goes back and new directories go, so
 * `to` is left as it was.
 */
export async function moveFiles(from: string, to: string): Promise<number> {
  const files = await listFiles(from)
  const moved: string[] = []
  const created: string[] = []
  try {
    for (const file of files) {
      const destination = join(to, file)
      const directory = dirname(destination)
      if (!(await isDirectory(directory))) {
        await mkdir(directory, {recursive: true})
        created.push(directory)
      }

      if ((await isDirectory(destination)) !== undefined) throw new Error(`${destination} already exists`)
      await rename(join(from, file), destination)
      moved.push(file)
    }
  } catch (error) {
    for (const file of moved.reverse()) {
      await rename(join(to, file), join(from, file)).catch(() => rm(join(to, file), {force: true}))
    }

    for (const directory of created.reverse()) await rmdir(directory).catch(() => {})
    throw error
  }

  return moved.length
}
