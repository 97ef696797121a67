import {type Command, Flags} from '@oclif/core'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {BaseCommand} from './base-command.js'

/** The --db flag of the commands that work on the local database (fetch commands have their own). */
export const databaseFlags = {
  db: Flags.string({
    description: 'DuckDB database file [default: $MPX_DB, else <data dir>/<project id>.duckdb]',
    helpGroup: 'DATABASE',
  }),
}

/**
 * A command on the local DuckDB database. It imports nothing of DuckDB itself: its services load
 * it when they run, so that `--help` stays fast.
 */
export abstract class DatabaseCommand<T extends typeof Command> extends BaseCommand<T> {
  /**
   * The database file: --db, else $MPX_DB, else `<data dir>/<project id>.duckdb`, where the project
   * id comes from --project-id, the account or the environment, as for fetches.
   */
  protected async databaseFile(db: string | undefined): Promise<string> {
    const {databasePath} = await import('./duckdb/database-path.js')
    if (db || process.env.MPX_DB) return databasePath(this.config.dataDir, undefined, db)
    const projectId = this.flags['project-id'] ?? process.env.MP_PROJECT_ID
    try {
      const account = await this.resolveAccount()
      return databasePath(this.config.dataDir, account.credentials.projectId ?? projectId)
    } catch (error) {
      // Naming a database needs a project id, not credentials.
      if (projectId && /^\d+$/.test(projectId)) return databasePath(this.config.dataDir, projectId)
      if (error instanceof UsageError) {
        throw new UsageError(
          `Which database? Pass --db FILE or set MPX_DB, or give a project id (--project-id, MP_PROJECT_ID or an account): ${error.message}`,
        )
      }

      throw error
    }
  }
}
