import {Args, Flags} from '@oclif/core'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {regions} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'
import {checkTimezone} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

import {AccountlessCommand} from '../../accountless-command.js'
import {type AccountDraft, addAccount, checkAccountDraft} from '../../config/accounts.js'
import {promptHidden, readSecretFromStream, type TerminalInput} from '../../config/secret-input.js'

export default class AuthAdd extends AccountlessCommand<typeof AuthAdd> {
  static args = {
    name: Args.string({description: 'Name of the account, e.g. prod (letters, digits, ".", "_", "-")', required: true}),
  }
  static description = `Save Mixpanel credentials in the config file under a name.

A service account (--username, --project-id; the supported way) or, with --api-secret, a project API secret (deprecated by Mixpanel). The secret is never a flag value: it is read from stdin with --secret-stdin, or typed at a hidden prompt. The file is written readable by you only (0600). The first account added becomes the default.`
  static examples = [
    {
      command: '<%= config.bin %> <%= command.id %> prod --username mpx.1a2b3c.mp-service-account --project-id 123456',
      description: 'Add a service account; the secret is asked for at a hidden prompt',
    },
    {
      command:
        '<%= config.bin %> <%= command.id %> eu-prod --username mpx.1a2b3c.mp-service-account --project-id 654321 --region eu --secret-stdin < secret.txt',
      description: 'Add an EU project, the secret piped from a file',
    },
    {
      command:
        'pass show mixpanel/legacy | <%= config.bin %> <%= command.id %> legacy --api-secret --secret-stdin --default',
      description: 'Add a project API secret from a password manager and make it the default',
    },
    {
      command:
        '<%= config.bin %> <%= command.id %> legacy --username mpx.1a2b3c.mp-service-account --project-id 123456 --timezone America/Los_Angeles',
      description: 'A project created before 2023, whose timezone is Los Angeles (see its Project Settings)',
    },
  ]
  static flags = {
    'api-secret': Flags.boolean({
      description: 'The secret is a project API secret (deprecated by Mixpanel), not a service-account secret',
    }),
    default: Flags.boolean({description: 'Make it the default account (the first account is the default anyway)'}),
    force: Flags.boolean({char: 'f', description: 'Replace an existing account of the same name'}),
    'project-id': Flags.string({description: 'Mixpanel project id (required for a service account)'}),
    region: Flags.option({description: 'Data residency region of the project [default: us]', options: regions})(),
    'secret-stdin': Flags.boolean({
      description: 'Read the secret from stdin (all of it, minus the trailing newline) instead of prompting',
    }),
    timezone: Flags.string({
      description:
        "The project's timezone, an IANA name such as America/Los_Angeles: for projects created before 2023, whose dates and times are the zone's [default: UTC]",
    }),
    username: Flags.string({description: 'Service account username (required unless --api-secret)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const draft: AccountDraft = {
      name: args.name,
      projectId: flags['project-id'],
      region: flags.region,
      timezone: flags.timezone,
      type: flags['api-secret'] ? 'api-secret' : 'service-account',
      username: flags.username,
    }
    const options = {force: flags.force, makeDefault: flags.default}
    // Everything but the secret is checked before asking for it.
    await checkAccountDraft(this.configFile, draft, options)
    const secret = await this.readSecret(args.name, flags['secret-stdin'])
    const {isDefault, replaced} = await addAccount(this.configFile, draft, secret, options)

    const kind = draft.type === 'api-secret' ? 'project API secret' : 'service account'
    const project = draft.projectId ? `, project ${draft.projectId}` : ''
    const zone = draft.timezone ? `, timezone ${checkTimezone(draft.timezone, '--timezone')}` : ''
    const role = isDefault ? ' (the default account)' : ''
    this.log(
      `${replaced ? 'Replaced' : 'Added'} account "${args.name}": ${kind}${project}, region ${draft.region ?? 'us'}${zone}${role}`,
    )
    this.log(`Saved in ${this.configFile}. Check it with: ${this.config.bin} auth:test --account ${args.name}`)
  }

  private async readSecret(name: string, fromStdin: boolean): Promise<string> {
    if (fromStdin) return readSecretFromStream(process.stdin)
    if (!process.stdin.isTTY) {
      throw new UsageError('No secret: pipe it with --secret-stdin, or run in a terminal to be asked for it')
    }

    return promptHidden(`Secret for "${name}" (not shown): `, process.stdin as TerminalInput, process.stderr)
  }
}
