import {DatabaseCommand, databaseFlags} from '../../database-command.js'
import {formatCount} from '../../output/progress.js'

export default class Tables extends DatabaseCommand<typeof Tables> {
  static description = `List the tables of the local DuckDB database: rows, the days fetched, and when.

The fetch details come from mpx's record of the fetches that made each table (_mpx_fetches); tables made otherwise (mpx sql --write) show their row count only.`
  static enableJsonFlag = true
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Tables of the current project’s database'},
    {
      command: '<%= config.bin %> <%= command.id %> --db ./acme.duckdb --json',
      description: 'Tables of another database file, as JSON',
    },
  ]
  static flags = {...databaseFlags}

  async run(): Promise<unknown> {
    const path = await this.databaseFile(this.flags.db)
    const {listTables} = await import('../../duckdb/tables.js')
    const {renderTable} = await import('../../output/text-table.js')
    const tables = await listTables(path)
    if (this.jsonEnabled()) return tables
    if (tables.length === 0) {
      this.log(`No tables in ${path} yet: fetch some with mpx fetch:events FROM TO`)
      return tables
    }

    this.log(
      renderTable(
        [
          {header: 'TABLE'},
          {header: 'KIND'},
          {align: 'right', header: 'ROWS'},
          {header: 'FROM'},
          {header: 'TO'},
          {header: 'FETCHED'},
        ],
        tables.map((table) => [
          table.name,
          table.kind ?? '',
          formatCount(table.rows),
          table.from ?? '',
          table.to ?? '',
          table.fetchedAt ? table.fetchedAt.slice(0, 19).replace('T', ' ') + ' UTC' : '',
        ]),
      ),
    )
    return tables
  }
}
