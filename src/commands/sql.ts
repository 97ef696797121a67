import {Args, Flags} from '@oclif/core'

import {DatabaseCommand, databaseFlags} from '../database-command.js'
import {defaultSqlFormat, sqlFormats} from '../sql/formats.js'

export default class Sql extends DatabaseCommand<typeof Sql> {
  static args = {
    query: Args.string({
      description: 'SQL to run (several statements: the last one’s result is printed)',
      required: true,
    }),
  }
  static description = `Run SQL on the local DuckDB database and print the result.

Prints a table on a terminal and JSON Lines otherwise (or as --format says). Big integers are printed exactly, JSON columns as JSON, and times as ISO 8601 UTC. The database is opened read-only unless --write is given.`
  static examples = [
    {
      command: `<%= config.bin %> <%= command.id %> "SELECT event_name, count(*) AS n FROM events GROUP BY ALL ORDER BY n DESC"`,
      description: 'Events by name',
    },
    {
      command: `<%= config.bin %> <%= command.id %> "SELECT distinct_id, properties->>'$email' AS email FROM profiles" --format csv > emails.csv`,
      description: 'A CSV file of profile emails',
    },
    {
      command: `<%= config.bin %> <%= command.id %> "DELETE FROM events WHERE event_name = 'Test'" --write`,
      description: 'Change the database',
    },
  ]
  static flags = {
    ...databaseFlags,
    format: Flags.option({
      description: 'Output format [default: table on a terminal, else jsonl]',
      options: sqlFormats,
    })(),
    write: Flags.boolean({description: 'Open the database read-write, so that the SQL may change it'}),
  }

  async run(): Promise<void> {
    const path = await this.databaseFile(this.flags.db)
    const {runSql} = await import('../sql/run-sql.js')
    await runSql({
      format: this.flags.format ?? defaultSqlFormat(process.stdout.isTTY),
      out: process.stdout,
      path,
      sql: this.args.query,
      write: this.flags.write,
    })
  }
}
