import type {RejectedRecord} from 'mpx-mixpanel-core/internal/records/rejects.js'

import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {closeSync, openSync, writeSync} from 'node:fs'
import {copyFile, mkdir, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

import type {WriteMode} from './sink.js'

/** The fetch a reject came from, as written beside it. */
export interface RejectingFetch {
  readonly startedAt: Date
  readonly table: string
}

/**
 * A reject as one JSON line: the fields of the DuckDB rejects table, `line` last (the record as
 * received, as a JSON string: `JSON.parse(text).line` gives it back exactly).
 */
export function rejectJsonLine(reject: RejectedRecord, fetch: RejectingFetch): string {
  // Key order is the rejects table's column order: keep it as written.
  /* eslint-disable perfectionist/sort-objects */
  return JSON.stringify({
    table_name: fetch.table,
    kind: reject.kind,
    fetch_started_at: fetch.startedAt.toISOString(),
    from_date: reject.range?.from ?? null,
    to_date: reject.range?.to ?? null,
    day: reject.day ?? null,
    insert_id: reject.insertId ?? null,
    reason: reject.reason,
    line: reject.line,
  })
  /* eslint-enable perfectionist/sort-objects */
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/**
 * A fetch's rejects as a JSON Lines file beside its output, following the fetch's write mode:
 * written under a temporary name and renamed at commit, with the records of the earlier fetches
 * first when appending; a create or replace that rejected nothing removes the file an earlier
 * fetch left there (it described records that are gone). Nothing is created when nothing is rejected.
 */
export class RejectsFile {
  count = 0
  private fd: number | undefined
  private readonly temporary: string

  constructor(
    readonly path: string,
    private readonly mode: WriteMode,
    private readonly fetch: RejectingFetch,
  ) {
    this.temporary = `${path}.${process.pid}.partial`
  }

  async abort(): Promise<void> {
    this.close()
    await rm(this.temporary, {force: true})
  }

  async add(rejects: readonly RejectedRecord[]): Promise<void> {
    if (rejects.length === 0) return
    if (this.fd === undefined) {
      await mkdir(dirname(this.path), {recursive: true})
      await rm(this.temporary, {force: true})
      if (this.mode === 'append' && (await exists(this.path))) await copyFile(this.path, this.temporary)
      this.fd = this.call(() => openSync(this.temporary, 'a', 0o644))
    }

    const text = Buffer.from(rejects.map((reject) => `${rejectJsonLine(reject, this.fetch)}\n`).join(''))
    const {fd} = this
    let written = 0
    while (written < text.length) written += this.call(() => writeSync(fd, text, written))
    this.count += rejects.length
  }

  /** Puts the file in place; resolves to its path when this fetch rejected records. */
  async commit(): Promise<string | undefined> {
    this.close()
    if (this.count === 0) {
      if (this.mode !== 'append') await rm(this.path, {force: true})
      return undefined
    }

    await rename(this.temporary, this.path)
    return this.path
  }

  private call<T>(work: () => T): T {
    try {
      return work()
    } catch (error) {
      const {code, message} = error as NodeJS.ErrnoException
      throw new MpxError(`Cannot write the rejects file ${this.path} (${code ?? message}): check the disk`, undefined, {
        cause: error,
      })
    }
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}
