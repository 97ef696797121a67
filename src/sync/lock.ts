import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'

import {isRunning} from '../duckdb/waiting.js'

/** A held lock: release it when done (also fine to call twice). */
export interface SyncLock {
  readonly path: string
  release(): void
}

/**
 * One sync of a table at a time: a lock file holding the owner's PID, created exclusively. A lock
 * whose process is gone (killed) is stale and taken over.
 */
export function acquireSyncLock(path: string, what: string): SyncLock {
  // The first sync into a new data directory: the lock comes before the database.
  mkdirSync(dirname(path), {recursive: true})
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx')
    } catch (error) {
      const {code} = error as NodeJS.ErrnoException
      if (code !== 'EEXIST') {
        throw new MpxError(
          `Cannot create the lock file ${path} (${code}): check the directory's permissions`,
          undefined,
          {
            cause: error,
          },
        )
      }

      const pid = Number(readText(path).trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new MpxError(`${what} is already being synced by another mpx (PID ${pid}): wait for it to finish`)
      }

      // Stale (its process is gone), or half-written by a process killed at once: take it over.
      rmSync(path, {force: true})
      continue
    }

    writeSync(fd, `${process.pid}\n`)
    closeSync(fd)
    let held = true
    return {
      path,
      release() {
        if (!held) return
        held = false
        if (readText(path).trim() === String(process.pid)) rmSync(path, {force: true})
      },
    }
  }

  throw new MpxError(`Cannot take the lock file ${path}: remove it if no mpx is syncing`)
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
