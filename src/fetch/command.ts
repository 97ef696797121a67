import type {Command, Interfaces} from '@oclif/core'

import type {RecordKind} from '../records/types.js'
import type {FetchInput} from './to-sink.js'

import {BaseCommand} from '../base-command.js'
import {Progress} from '../output/progress.js'
import {type fetchFlags, sinkChoice, writeMode} from './flags.js'

type FetchFlagValues = Interfaces.InferredFlags<typeof fetchFlags>

/**
 * What fetch:events and fetch:profiles share: from their common flags (fetchFlags, which each
 * spreads into its own) and TABLE argument to the input every fetch takes.
 */
export abstract class FetchCommand<T extends typeof Command> extends BaseCommand<T> {
  /** Starts the progress display, then resolves the account: the input shared by every fetch. */
  protected async fetchInput(kind: RecordKind, table: string | undefined): Promise<FetchInput> {
    const flags = this.flags as unknown as FetchFlagValues
    const progress = await Progress.start({noun: kind, quiet: flags.quiet})
    if (flags.stdout && table) progress.warn(`TABLE "${table}" is ignored with --stdout`)
    return {
      account: await this.resolveAccount(),
      config: this.config,
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
