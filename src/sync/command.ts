import type {Command} from '@oclif/core'
import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {SyncWords} from './words.js'

import {StoreCommand, type StoreInput} from '../fetch/command.js'
import {Progress} from '../output/progress.js'

/**
 * What sync:events and sync:profiles share: from the flags they take of fetchFlags and their
 * TABLE argument to the input every sync takes, in the CLI's words.
 */
export abstract class SyncCommand<T extends typeof Command> extends StoreCommand<T> {
  /**
   * Starts the progress display, then resolves the account (with the project's timezone, where the
   * command takes one): the input shared by every sync.
   */
  protected async syncInput(
    kind: RecordKind,
    table: string | undefined,
    timezone?: string,
  ): Promise<StoreInput & {words: SyncWords}> {
    const {quiet} = this.flags as unknown as {quiet: boolean}
    const progress = await Progress.start({noun: kind, quiet})
    const input = await this.storeInput(kind, table, progress, timezone)
    const {CLI_WORDS} = await import('./words.js')
    return {...input, words: CLI_WORDS}
  }
}
