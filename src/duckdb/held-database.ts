import {type Database, openDatabase} from './database.js'
import {othersWaiting} from './waiting.js'

/**
 * How long a sync waits for the database when another process has it open (a reader, a fetch, a
 * sync of another table): readers hold it for seconds.
 */
export const WRITER_LOCK_WAIT_MS = 120_000

/** How often a sync that holds the database looks for processes waiting for it. */
export const WAITING_POLL_MS = 250

export interface HeldDatabaseOptions {
  readonly memoryLimit?: string
  /** Told when the database is in use by another process and the sync waits for it. */
  readonly onLockWait: (message: string) => void
  readonly path: string
  readonly threads?: number
}

/** One transaction at a time on the held database's connection: a turn. */
export interface Turn {
  readonly database: Database
  /** Ends the turn (its transaction committed or rolled back). */
  end(): Promise<void>
}

/** A turn held by a chunk that loads while it is fetched. */
export interface LoadingTurn extends Turn {
  /** The chunk is committing: it keeps the turn until it is done, waiting processes or not. */
  committing(): void
}

/** What the holder asks of a chunk loading in its turn when another process waits for the database. */
export type GiveUp = () => Promise<void>

/** A lock that hands itself to each waiter in turn; the returned function lets it go. */
function turnLock(): () => Promise<() => void> {
  let tail: Promise<void> = Promise.resolve()
  return async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    const before = tail
    tail = before.then(async () => released)
    await before
    return release
  }
}

/**
 * The database a sync keeps open between its chunks, so that a chunk loads while it is fetched,
 * as a fetch does, instead of after it (DuckDB lets one process at a time open the file). It lets
 * go as soon as another process waits for the file (`mpx sql`, `mpx tables`, a fetch: see
 * waiting.ts): the chunk loading then gives up its transaction and is saved from its files when
 * it commits, and the file is opened again when the next chunk can have it without waiting.
 */
export class HeldDatabase {
  private database: Database | undefined
  /** The chunk loading in its turn, until it commits or gives up. */
  private loading: undefined | {committing: boolean; giveUp: GiveUp}
  private poll: NodeJS.Timeout | undefined
  private polling = false
  private readonly turns = turnLock()

  constructor(private readonly options: HeldDatabaseOptions) {}

  /** Whether the file is open in this process (held for the sync). */
  get isOpen(): boolean {
    return this.database !== undefined
  }

  /** Lets go of the file: after the turn in progress, if any. */
  async close(): Promise<void> {
    const release = await this.turns()
    try {
      this.closeNow()
    } finally {
      release()
    }
  }

  /**
   * A turn to load a chunk while it is fetched, or undefined when there is none to have without
   * waiting: another process waits for the file or holds it, or another chunk is loading (a chunk
   * that is committing is waited for: it is about to end its turn).
   */
  async loadingTurn(giveUp: GiveUp): Promise<LoadingTurn | undefined> {
    if (this.loading && !this.loading.committing) return undefined
    const release = await this.turns()
    const loading = {committing: false, giveUp}
    try {
      if (this.loading || (await othersWaiting(this.options.path))) {
        release()
        return undefined
      }

      const database = await this.open(0)
      this.loading = loading
      return {
        committing() {
          loading.committing = true
        },
        database,
        end: async () => {
          if (this.loading === loading) this.loading = undefined
          release()
          await this.letGoIfWaitedFor()
        },
      }
    } catch {
      // Held by another process: this chunk is saved from its files at commit.
      release()
      return undefined
    }
  }

  /** The next turn, waiting for the chunks before it and, if another process holds the file, for it. */
  async turn(): Promise<Turn> {
    const release = await this.turns()
    try {
      const database = await this.open(WRITER_LOCK_WAIT_MS)
      return {
        database,
        end: async () => {
          release()
          await this.letGoIfWaitedFor()
        },
      }
    } catch (error) {
      release()
      throw error
    }
  }

  private closeNow(): void {
    clearInterval(this.poll)
    this.poll = undefined
    this.database?.close()
    this.database = undefined
  }

  /** Closes the file once no chunk holds a turn, if another process waits for it. */
  private async letGoIfWaitedFor(): Promise<void> {
    if (!this.database || !(await othersWaiting(this.options.path))) return
    await this.loading?.giveUp()
    await this.close()
  }

  private async open(lockWaitMs: number): Promise<Database> {
    if (this.database) return this.database
    this.database = await openDatabase(this.options.path, {
      create: true,
      lockWaitMs,
      memoryLimit: this.options.memoryLimit,
      onLockWait: this.options.onLockWait,
      threads: this.options.threads,
    })
    this.poll = setInterval(() => {
      if (this.polling) return
      this.polling = true
      this.letGoIfWaitedFor()
        .catch(() => {})
        .finally(() => {
          this.polling = false
        })
    }, WAITING_POLL_MS)
    this.poll.unref()
    return this.database
  }
}
