import {Args, Flags} from '@oclif/core'
import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'

import {fetchFlags} from '../../fetch/flags.js'
import {SyncCommand} from '../../sync/command.js'

export default class SyncProfiles extends SyncCommand<typeof SyncProfiles> {
  static args = {
    table: Args.string({description: 'Table to keep current [default: profiles]'}),
  }
  static description = `Keep a table of user profiles current: a full refresh, or the profiles seen since the last sync.

By default every profile is fetched and the table is replaced once all have arrived, in one
transaction: changed profiles change, deleted ones disappear, and an interrupted refresh leaves the
table as it was. --changed-only fetches only profiles whose $last_seen is after the last sync (less
--lookback-days) and upserts them by distinct_id: cheaper, but blind to profiles updated without
activity (a property set from a server, an import) and to deleted profiles; run a full refresh now
and then. Into another sink (the Parquet plugin, in a directory or a bucket) a sync is a full
refresh; --changed-only needs a DuckDB table. Pages are paced within Mixpanel's Query API limits
(60 queries an hour, 5 at once).`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Replace the profiles table with every profile'},
    {
      command: '<%= config.bin %> <%= command.id %> --changed-only --quiet',
      description: 'Upsert the profiles seen since the last sync (e.g. hourly from cron)',
    },
  ]
  static flags = {
    'bad-records': fetchFlags['bad-records'],
    'changed-only': Flags.boolean({
      description: 'Only profiles seen ($last_seen) since the last sync, upserted by distinct_id',
    }),
    db: fetchFlags.db,
    insecure: fetchFlags.insecure,
    'lookback-days': Flags.integer({
      default: 1,
      description: 'With --changed-only: also profiles seen up to N days before the last sync',
      min: 0,
    }),
    quiet: fetchFlags.quiet,
    retries: fetchFlags.retries,
    sink: fetchFlags.sink,
    'sink-option': fetchFlags['sink-option'],
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const input = await this.syncInput('profiles', args.table)
    const {syncProfiles} = await import('../../sync/sync-profiles.js')
    const {reportFetch} = await import('../../fetch/cli-run.js')
    const result = await reportFetch('profiles', input.progress, (signal) =>
      syncProfiles({...input, changedOnly: flags['changed-only'], lookbackDays: flags['lookback-days'], signal}),
    )
    // Committed, with records quarantined: a distinct exit status, so that cron notices.
    if (result.rejected) this.exit(ExitCode.Quarantined)
  }
}
