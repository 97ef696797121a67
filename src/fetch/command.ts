import type {Command, Interfaces} from '@oclif/core'
import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {FetchInput} from './to-sink.js'

import {BaseCommand} from '../base-command.js'
import {Progress} from '../output/progress.js'
import {checkOutputFlags, type fetchFlags, sinkChoice, writeMode} from './flags.js'

type FetchFlagValues = Interfaces.InferredFlags<typeof fetchFlags>

/** The flags of fetchFlags that every command that stores records has. */
type StoreFlagValues = Partial<Pick<FetchFlagValues, 'bad-records'>> &
  Pick<FetchFlagValues, 'db' | 'insecure' | 'quiet' | 'retries' | 'sink' | 'sink-option'>

/** What a fetch and a sync both take: the input of every fetch but its format and write mode. */
export type StoreInput = Omit<FetchInput, 'format' | 'mode'> & {progress: Progress}

/**
 * What the fetch:* and sync:* commands share: from the flags they take of fetchFlags and their
 * TABLE argument to the input every fetch and sync takes.
 */
export abstract class StoreCommand<T extends typeof Command> extends BaseCommand<T> {
  /**
   * Resolves the account (with the project's timezone, where the command takes one), for the
   * input shared by every fetch and sync, told as it goes by the started `progress`.
   */
  protected async storeInput(
    kind: RecordKind,
    table: string | undefined,
    progress: Progress,
    timezone?: string,
  ): Promise<StoreInput> {
    const flags = this.flags as unknown as StoreFlagValues
    return {
      account: await this.resolveAccount(timezone),
      badRecords: flags['bad-records'],
      config: this.config,
      dataDir: this.config.dataDir,
      db: flags.db,
      insecure: flags.insecure,
      progress,
      retries: flags.retries,
      ...sinkChoice(flags),
      table: table ?? kind,
    }
  }
}

/**
 * What fetch:events and fetch:profiles share: from their common flags (fetchFlags, which each
 * spreads into its own) and TABLE argument to the input every fetch takes.
 */
export abstract class FetchCommand<T extends typeof Command> extends StoreCommand<T> {
  /**
   * Checks the output flags, starts the progress display, then resolves the account (with the
   * project's timezone, where the command takes one): the input shared by every fetch.
   */
  protected async fetchInput(
    kind: RecordKind,
    table: string | undefined,
    timezone?: string,
  ): Promise<FetchInput & {progress: Progress}> {
    const flags = this.flags as unknown as FetchFlagValues
    checkOutputFlags(flags)
    const progress = await Progress.start({noun: kind, quiet: flags.quiet})
    if (flags.stdout && table) progress.warn(`TABLE "${table}" is ignored with --stdout`)
    return {
      ...(await this.storeInput(kind, table, progress, timezone)),
      format: flags.raw ? 'raw' : 'normalized',
      mode: writeMode(flags),
    }
  }
}
