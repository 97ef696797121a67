import type {Command, Interfaces} from '@oclif/core'
import type {RecordKind} from 'mpx-mixpanel-core/internal/records/types.js'

import type {FetchInput} from './to-sink.js'

import {BaseCommand} from '../base-command.js'
import {Progress} from '../output/progress.js'
import {checkOutputFlags, type fetchFlags, sinkChoice, writeMode} from './flags.js'

type FetchFlagValues = Interfaces.InferredFlags<typeof fetchFlags>

/**
 * What fetch:events and fetch:profiles share: from their common flags (fetchFlags, which each
 * spreads into its own) and TABLE argument to the input every fetch takes.
 */
export abstract class FetchCommand<T extends typeof Command> extends BaseCommand<T> {
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
      account: await this.resolveAccount(timezone),
      badRecords: flags['bad-records'],
      config: this.config,
      dataDir: this.config.dataDir,
      db: flags.db,
      format: flags.raw ? 'raw' : 'normalized',
      insecure: flags.insecure,
      mode: writeMode(flags),
      progress,
      retries: flags.retries,
      ...sinkChoice(flags),
      table: table ?? kind,
    }
  }
}
