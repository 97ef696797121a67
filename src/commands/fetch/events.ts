import {Args, Flags} from '@oclif/core'
import {ExitCode, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {DEFAULT_CHUNK_DAYS, MAX_EXPORT_LIMIT} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {MAX_CONCURRENT_REQUESTS, REQUESTS_PER_SECOND} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'

import {FetchCommand} from '../../fetch/command.js'
import {fetchFlags} from '../../fetch/flags.js'

export default class FetchEvents extends FetchCommand<typeof FetchEvents> {
  // Positional order matters: keep it as written.
  /* eslint-disable perfectionist/sort-objects */
  static args = {
    from: Args.string({description: 'First day, YYYY-MM-DD (inclusive)', required: true}),
    to: Args.string({description: 'Last day, YYYY-MM-DD (inclusive)', required: true}),
    table: Args.string({description: 'DuckDB table to store into [default: events]'}),
  }
  /* eslint-enable perfectionist/sort-objects */
  static description = `Export events from Mixpanel's raw export API into DuckDB, or as JSONL to stdout.

Long ranges are fetched in chunks of --chunk-days days, in date order; failed requests are retried (429, 5xx, resets) without losing or repeating a record. FROM and TO are the project's days: in its timezone (--timezone) for a project created before 2023, else UTC; a TO after the project's today is fetched up to today.`
  static examples = [
    {
      command: '<%= config.bin %> <%= command.id %> 2024-01-01 2024-01-31',
      description: 'Store January in the events table',
    },
    {
      command: '<%= config.bin %> <%= command.id %> 2024-01-01 2024-01-31 --stdout | jq -r .event_name',
      description: 'Stream to stdout as JSONL',
    },
    {
      command:
        '<%= config.bin %> <%= command.id %> 2024-01-01 2024-01-07 --stdout --raw -e \'Signed up\' -w \'properties["plan"] == "pro"\'',
      description: 'Raw records of one event, filtered',
    },
    {
      command: '<%= config.bin %> <%= command.id %> 2024-03-01 2024-03-31 --timezone America/Los_Angeles',
      description: "A project created before 2023 in Los Angeles' timezone: its days, and true UTC event times",
    },
  ]
  static flags = {
    ...fetchFlags,
    'chunk-days': Flags.integer({
      default: DEFAULT_CHUNK_DAYS,
      description: 'Days per export request (Mixpanel allows 60 requests an hour)',
      min: 1,
    }),
    concurrency: Flags.integer({
      default: 1,
      description: `Date chunks fetched at once, 1 to ${MAX_CONCURRENT_REQUESTS}; records still come in date order, and requests still start at most ${REQUESTS_PER_SECOND} a second (Mixpanel's limit)`,
      max: MAX_CONCURRENT_REQUESTS,
      min: 1,
    }),
    dedupe: Flags.boolean({
      allowNo: true,
      default: true,
      description:
        'Store each event once per (event_name, distinct_id, insert_id) (--no-dedupe keeps everything as exported)',
      helpGroup: 'OUTPUT',
    }),
    event: Flags.string({char: 'e', description: 'Only this event (repeatable)', multiple: true}),
    limit: Flags.integer({
      description: `At most this many events (1 to ${MAX_EXPORT_LIMIT})`,
      max: MAX_EXPORT_LIMIT,
      min: 1,
    }),
    timezone: Flags.string({
      description:
        "The project's timezone, an IANA name (overrides MP_TIMEZONE and the account) [default: UTC]: for projects created before 2023, whose days and times are the zone's",
      helpGroup: 'ACCOUNT',
    }),
    where: Flags.string({char: 'w', description: 'Segmentation expression, e.g. properties["plan"] == "pro"'}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    if (flags.event?.includes('')) {
      throw new UsageError('--event "" names no event: give an event name, or leave -e out')
    }

    const input = await this.fetchInput('events', args.table, flags.timezone)
    const {fetchEvents} = await import('../../fetch/events.js')
    const {reportFetch} = await import('../../fetch/cli-run.js')
    const result = await reportFetch('events', input.progress, (signal) =>
      fetchEvents({
        ...input,
        chunkDays: flags['chunk-days'],
        concurrency: flags.concurrency,
        dedupe: flags.dedupe,
        events: flags.event,
        from: args.from,
        limit: flags.limit,
        signal,
        to: args.to,
        where: flags.where,
      }),
    )
    // Committed, with records quarantined: a distinct exit status, so that cron notices.
    if (result.rejected) this.exit(ExitCode.Quarantined)
  }
}
