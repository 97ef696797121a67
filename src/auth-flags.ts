import {Flags} from '@oclif/core'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {regions} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'

import type {BaseCommand} from './base-command.js'

/**
 * BaseCommand's account flags (--account, --project-id, --region), hidden: for the commands that
 * need no account (the auth commands, which manage accounts rather than use one, and sinks).
 * auth:add redefines --project-id and --region in its own flags, which win over these.
 */
export const accountFlagsNotUsed: (typeof BaseCommand)['baseFlags'] = {
  account: Flags.string({hidden: true}),
  'project-id': Flags.string({hidden: true}),
  region: Flags.option({hidden: true, options: regions})(),
}

/**
 * Refuses the hidden account flags when given. (A throwing `parse` would do it earlier, but oclif
 * wraps such errors in a three-line message.)
 */
export function refuseAccountFlags(flags: {account?: string; 'project-id'?: string; region?: string}): void {
  const given = (['account', 'project-id', 'region'] as const).filter((name) => flags[name] !== undefined)
  if (given.length > 0) throw new UsageError(`--${given[0]} does not apply to this command`)
}
