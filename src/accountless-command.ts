import type {Command} from '@oclif/core'

import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {accountFlagsNotUsed} from './auth-flags.js'
import {BaseCommand} from './base-command.js'

const ACCOUNT_FLAGS = ['account', 'project-id', 'region'] as const

/**
 * A command that needs no account: the auth commands, which manage accounts rather than use one.
 * BaseCommand's account flags are hidden, and refused when given, but for those the command
 * defines as its own (auth:add's --project-id and --region). (A throwing `parse` would refuse them
 * earlier, but oclif wraps such errors in a three-line message.)
 */
export abstract class AccountlessCommand<T extends typeof Command> extends BaseCommand<T> {
  static baseFlags = accountFlagsNotUsed

  async init(): Promise<void> {
    await super.init()
    const own = this.ctor.flags ?? {}
    const given = ACCOUNT_FLAGS.filter((name) => !(name in own) && this.flags[name] !== undefined)
    if (given.length > 0) throw new UsageError(`--${given[0]} does not apply to this command`)
  }
}
