import {Flags} from '@oclif/core'
import {regions} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'

import type {BaseCommand} from './base-command.js'

/**
 * BaseCommand's account flags (--account, --project-id, --region), hidden: for the commands that
 * need no account (the auth commands, see AccountlessCommand, and sinks, which accepts them).
 * auth:add redefines --project-id and --region in its own flags, which win over these.
 */
export const accountFlagsNotUsed: (typeof BaseCommand)['baseFlags'] = {
  account: Flags.string({hidden: true}),
  'project-id': Flags.string({hidden: true}),
  region: Flags.option({hidden: true, options: regions})(),
}
