import {Args, Flags} from '@oclif/core'
import {ExitCode, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {FetchCommand} from '../../fetch/command.js'
import {fetchFlags} from '../../fetch/flags.js'

export default class FetchProfiles extends FetchCommand<typeof FetchProfiles> {
  static args = {
    table: Args.string({description: 'DuckDB table to store into [default: profiles]'}),
  }
  static description = `Export user profiles from Mixpanel's engage API into DuckDB, or as JSONL to stdout.

Pages are read with one engage session: once the first page has said how many there are, up to 5 are requested at once (Mixpanel's limit) and still delivered in order. Failed requests are retried (429, 5xx, resets), and a session that expires starts again without repeating a profile.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Store every profile in the profiles table'},
    {
      command: '<%= config.bin %> <%= command.id %> --stdout | jq -r .distinct_id',
      description: 'Stream profiles to stdout as JSONL',
    },
    {
      command:
        '<%= config.bin %> <%= command.id %> pro_users -w \'user["plan"] == "pro"\' --output-properties \'$email,plan\'',
      description: 'Two properties of the pro users, into a table of their own',
    },
    {
      command: '<%= config.bin %> <%= command.id %> --stdout --raw --cohort 123456 --limit 100',
      description: 'The first 100 members of a cohort, exactly as Mixpanel sends them',
    },
  ]
  static flags = {
    ...fetchFlags,
    'as-of-timestamp': Flags.integer({
      description: 'Evaluate the query as of this Unix time, in seconds (as_of_timestamp)',
      min: 0,
    }),
    cohort: Flags.integer({description: 'Only members of this cohort id (filter_by_cohort)', min: 0}),
    'distinct-id': Flags.string({description: 'Only the profile with this distinct id (repeatable)', multiple: true}),
    'group-id': Flags.string({description: 'Group profiles of this data group id instead of users (data_group_id)'}),
    'include-all-users': Flags.boolean({
      allowNo: true,
      description: "With --cohort, also the cohort's users who have no profile (include_all_users)",
    }),
    limit: Flags.integer({description: 'At most this many profiles', min: 1}),
    'output-properties': Flags.string({
      delimiter: ',',
      description: 'Only these properties, comma-separated (repeatable)',
      multiple: true,
    }),
    where: Flags.string({char: 'w', description: 'Segmentation expression, e.g. user["plan"] == "pro"'}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    if (flags['include-all-users'] !== undefined && flags.cohort === undefined) {
      const flag = flags['include-all-users'] ? '--include-all-users' : '--no-include-all-users'
      throw new UsageError(`${flag} applies only with --cohort: add --cohort ID, or leave it out`)
    }

    const input = await this.fetchInput('profiles', args.table)
    const {fetchProfiles} = await import('../../fetch/profiles.js')
    const {reportFetch} = await import('../../fetch/cli-run.js')
    const result = await reportFetch('profiles', input.progress, (signal) =>
      fetchProfiles({
        ...input,
        query: {
          asOfTimestamp: flags['as-of-timestamp'],
          cohortId: flags.cohort,
          distinctIds: flags['distinct-id'],
          groupId: flags['group-id'],
          includeAllUsers: flags['include-all-users'],
          limit: flags.limit,
          outputProperties: flags['output-properties'],
          where: flags.where,
        },
        signal,
      }),
    )
    // Committed, with records quarantined: a distinct exit status, so that cron notices.
    if (result.rejected) this.exit(ExitCode.Quarantined)
  }
}
