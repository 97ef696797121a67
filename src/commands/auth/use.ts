import {Args} from '@oclif/core'

import {AccountlessCommand} from '../../accountless-command.js'
import {useAccount} from '../../config/accounts.js'

export default class AuthUse extends AccountlessCommand<typeof AuthUse> {
  static args = {
    name: Args.string({description: 'Name of the account to make the default', required: true}),
  }
  static description = `Make an account the default.

The default account is the one used when neither --account nor MP_* credentials are given. An unknown NAME fails with exit code 4.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> prod', description: 'Use the account "prod" by default'},
    {
      command: '<%= config.bin %> <%= command.id %> staging && <%= config.bin %> auth:test',
      description: 'Switch to "staging" and check that its credentials work',
    },
  ]

  async run(): Promise<void> {
    await useAccount(this.configFile, this.args.name)
    this.log(`Default account: "${this.args.name}"`)
  }
}
