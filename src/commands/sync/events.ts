import {Args, Flags} from '@oclif/core'
import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'

import {fetchFlags} from '../../fetch/flags.js'
import {SyncCommand} from '../../sync/command.js'
import FetchEvents from '../fetch/events.js'

export default class SyncEvents extends SyncCommand<typeof SyncEvents> {
  static args = {
    table: Args.string({description: 'Table to keep current [default: events]'}),
  }
  static description = `Keep a table of events complete and current: fetch the days it lacks, and the last days again.

A sync plans from what the table holds, day by day: the days from --from to --to never fetched
(gaps included), the last --lookback-days days (events arrive late), and any day fetched while it
was in progress. Each chunk of days is saved on its own, replacing those days as a whole; an
interrupted sync keeps what it saved and the same command continues. The first sync of a table
needs --from; later ones remember it, and the table's -e/-w filters. More than 60 requests are
paced to Mixpanel's 60 export requests an hour.`
  static examples = [
    {
      command: '<%= config.bin %> <%= command.id %> --from 2024-01-01',
      description: 'Backfill the events table from 2024-01-01 to today (the first sync)',
    },
    {
      command: '<%= config.bin %> <%= command.id %> --quiet',
      description: 'Keep it current, e.g. daily from cron: missing days, and the last 5 again',
    },
    {
      command: "<%= config.bin %> <%= command.id %> signups --from 2024-01-01 -e 'Signed up' --lookback-days 10",
      description: 'A table of one event, re-reading the last 10 days',
    },
  ]
  static flags = {
    'bad-records': fetchFlags['bad-records'],
    'chunk-days': FetchEvents.flags['chunk-days'],
    concurrency: FetchEvents.flags.concurrency,
    db: fetchFlags.db,
    dedupe: FetchEvents.flags.dedupe,
    event: FetchEvents.flags.event,
    from: Flags.string({description: 'First day to keep, YYYY-MM-DD (needed on the first sync; remembered)'}),
    insecure: fetchFlags.insecure,
    'lookback-days': Flags.integer({
      default: 5,
      description: 'Fetch the last N days up to --to again, for events that arrive late (0: only missing days)',
      min: 0,
    }),
    quiet: fetchFlags.quiet,
    retries: fetchFlags.retries,
    sink: fetchFlags.sink,
    'sink-option': fetchFlags['sink-option'],
    timezone: FetchEvents.flags.timezone,
    to: Flags.string({description: "Last day, YYYY-MM-DD [default: the project's today]"}),
    where: FetchEvents.flags.where,
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const input = await this.syncInput('events', args.table, flags.timezone)
    const {syncEvents} = await import('../../sync/sync-events.js')
    const {reportSync} = await import('../../sync/cli-run.js')
    const result = await reportSync(input.progress, (signal) =>
      syncEvents({
        ...input,
        chunkDays: flags['chunk-days'],
        concurrency: flags.concurrency,
        dedupe: flags.dedupe,
        events: flags.event,
        from: flags.from,
        lookbackDays: flags['lookback-days'],
        signal,
        to: flags.to,
        where: flags.where,
      }),
    )
    // Committed, with records quarantined: a distinct exit status, so that cron notices.
    if (result.rejected) this.exit(ExitCode.Quarantined)
  }
}
