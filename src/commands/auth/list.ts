import {AccountlessCommand} from '../../accountless-command.js'
import {type AccountSummary, listAccounts} from '../../config/accounts.js'

export type AuthListResult = {
  accounts: AccountSummary[]
  configFile: string
  defaultAccount?: string
}

export default class AuthList extends AccountlessCommand<typeof AuthList> {
  static description = `List the accounts in the config file, secrets masked; * marks the default.

Credentials in the environment (MP_USERNAME/MP_SECRET or MP_API_SECRET) take precedence over the default account: a note on stderr says so when they are set.`
  static enableJsonFlag = true
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Show the accounts as a table'},
    {
      command: '<%= config.bin %> <%= command.id %> --json | jq -r ".accounts[].name"',
      description: 'Machine-readable output (secrets still masked)',
    },
  ]

  async run(): Promise<AuthListResult> {
    const {accounts, defaultAccount} = await listAccounts(this.configFile, (message) => this.warn(message))
    const result: AuthListResult = {accounts, configFile: this.configFile, defaultAccount}
    if (this.jsonEnabled()) return result

    if (process.env.MP_USERNAME || process.env.MP_SECRET || process.env.MP_API_SECRET) {
      this.logToStderr('Note: credentials set in the environment (MP_*) are used instead of the default account')
    }

    if (accounts.length === 0) {
      this.log(`No accounts in ${this.configFile}: add one with ${this.config.bin} auth:add NAME`)
      return result
    }

    const header = ['', 'NAME', 'TYPE', 'USERNAME', 'PROJECT', 'REGION', 'TIMEZONE', 'SECRET']
    const rows = accounts.map((account) => [
      account.isDefault ? '*' : '',
      account.name,
      account.type,
      account.username ?? '-',
      account.projectId ?? '-',
      account.region,
      account.timezone,
      account.secret,
    ])
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
    for (const row of [header, ...rows]) {
      this.log(
        row
          .map((cell, column) => cell.padEnd(widths[column]))
          .join('  ')
          .trimEnd(),
      )
    }

    return result
  }
}
