import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {fetchFlags, sinkChoice, writeMode} from '../../fetch/flags.js'
import {Progress} from '../../output/progress.js'

/** `--output-properties a,b --output-properties c` → `[a, b, c]`. */
function commaList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  const names = values
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name.length > 0)
  if (names.length === 0) throw new UsageError('--output-properties needs at least one property name, e.g. $email,plan')
  return names
}

export default class FetchProfiles extends BaseCommand<typeof FetchProfiles> {
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
      description: 'Only these properties, comma-separated (repeatable)',
      multiple: true,
    }),
    where: Flags.string({char: 'w', description: 'Segmentation expression, e.g. user["plan"] == "pro"'}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const {fetchProfiles} = await import('../../fetch/profiles.js')
    const progress = await Progress.start({noun: 'profiles', quiet: flags.quiet})
    if (flags.stdout && args.table) progress.warn(`TABLE "${args.table}" is ignored with --stdout`)
    await fetchProfiles({
      account: await this.resolveAccount(),
      config: this.config,
      db: flags.db,
      format: flags.raw ? 'raw' : 'normalized',
      insecure: flags.insecure,
      mode: writeMode(flags),
      progress,
      query: {
        asOfTimestamp: flags['as-of-timestamp'],
        cohortId: flags.cohort,
        distinctIds: flags['distinct-id'],
        groupId: flags['group-id'],
        includeAllUsers: flags['include-all-users'],
        limit: flags.limit,
        outputProperties: commaList(flags['output-properties']),
        where: flags.where,
      },
      retries: flags.retries,
      ...sinkChoice(flags),
      table: args.table ?? 'profiles',
    })
  }
}
