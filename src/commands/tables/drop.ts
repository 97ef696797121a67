import {Args} from '@oclif/core'

import {DatabaseCommand, databaseFlags} from '../../database-command.js'
import {formatCount} from '../../output/progress.js'

export default class TablesDrop extends DatabaseCommand<typeof TablesDrop> {
  static args = {
    name: Args.string({description: 'Table to drop', required: true}),
  }
  static description = `Drop a table from the local DuckDB database, and mpx's record of its fetches.`
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> events_2023', description: 'Drop the events_2023 table'},
    {
      command: '<%= config.bin %> <%= command.id %> profiles --db ./acme.duckdb',
      description: 'Drop a table of another database file',
    },
  ]
  static flags = {...databaseFlags}

  async run(): Promise<void> {
    const path = await this.databaseFile(this.flags.db)
    const {dropTable} = await import('../../duckdb/tables.js')
    const dropped = await dropTable(path, this.args.name)
    this.log(
      `Dropped table ${dropped.name} (${formatCount(dropped.rows)} ${dropped.rows === 1 ? 'row' : 'rows'}) from ${path}`,
    )
  }
}
