import {Args} from '@oclif/core'

import {AccountlessCommand} from '../../accountless-command.js'
import {removeAccount} from '../../config/accounts.js'

export default class AuthRemove extends AccountlessCommand<typeof AuthRemove> {
  static args = {
    name: Args.string({description: 'Name of the account to remove', required: true}),
  }
  static description = `Remove an account, and its secret, from the config file.

When it was the default there is no default afterwards: pick one with auth:use. An unknown NAME fails with exit code 4.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> old-project', description: 'Forget the account "old-project"'},
    {
      command: '<%= config.bin %> <%= command.id %> prod && <%= config.bin %> auth:use staging',
      description: 'Remove the default account and make another one the default',
    },
  ]

  async run(): Promise<void> {
    const {wasDefault} = await removeAccount(this.configFile, this.args.name)
    this.log(`Removed account "${this.args.name}"`)
    if (wasDefault) {
      this.logToStderr(
        `It was the default: there is no default account now (pick one with ${this.config.bin} auth:use NAME)`,
      )
    }
  }
}
