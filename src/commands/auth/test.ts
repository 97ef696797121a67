import {Flags} from '@oclif/core'
import {verifyCredentials} from 'mpx-mixpanel-core/internal/mixpanel/verify.js'

import {BaseCommand} from '../../base-command.js'

export default class AuthTest extends BaseCommand<typeof AuthTest> {
  static description = `Check credentials with one cheap authenticated request to Mixpanel.

Uses the credentials a fetch would use (flags, then MP_* environment variables, then the default account) and asks the export API for at most one event of yesterday. Prints OK with where the credentials came from, or fails: exit code 2 when Mixpanel rejects them, 5 when it is rate-limiting, 1 when it cannot be reached.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Check the default account (or MP_* credentials)'},
    {command: '<%= config.bin %> <%= command.id %> --account eu-prod', description: 'Check a named account'},
    {
      command: 'MP_API_SECRET=$(pass show mixpanel/legacy) <%= config.bin %> <%= command.id %> --region eu',
      description: 'Check a project API secret from the environment, in the EU region',
    },
  ]
  static flags = {
    insecure: Flags.boolean({
      description: 'Allow a plain-http MPX_API_URL on a non-loopback host (credentials travel unencrypted)',
    }),
  }

  async run(): Promise<void> {
    const account = await this.resolveAccount()
    // The HTTP client (got) loads when the command runs, never for `mpx --help` or completion.
    const {createClient} = await import('mpx-mixpanel-core/internal/mixpanel/create-client.js')
    const client = createClient({
      credentials: account.credentials,
      insecure: this.flags.insecure,
      region: account.region,
      retry: {attempts: 1},
    })
    await verifyCredentials(client)
    const project = account.credentials.projectId ?? 'of the API secret'
    this.log(`OK: ${account.source}, project ${project}, region ${account.region}`)
  }
}
