import {DatabaseCommand, databaseFlags} from '../../database-command.js'
import {formatCount} from '../../output/progress.js'

const utc = (at: null | string) => (at ? at.slice(0, 19).replace('T', ' ') + ' UTC' : '')

export default class Tables extends DatabaseCommand<typeof Tables> {
  static description = `List the tables of the local DuckDB database: rows, the days fetched, the gaps, and when.

The details come from mpx's records of the fetches and syncs that made each table (_mpx_fetches, and
_mpx_days, which holds each day fetched: GAPS are days between the first and the last never fetched,
IN PROGRESS days fetched before they were over, which the next sync fetches again; --json lists the
days held as ranges). Tables made otherwise (mpx sql --write) show their row count only. REJECTED counts
the records fetches quarantined because mpx could not store them: they are in _mpx_rejects
(mpx sql "SELECT * FROM _mpx_rejects").`
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

    const rejected = tables.some((table) => table.rejected > 0)
    this.log(
      renderTable(
        [
          {header: 'TABLE'},
          {header: 'KIND'},
          {align: 'right', header: 'ROWS'},
          {header: 'FROM'},
          {header: 'TO'},
          {header: 'GAPS'},
          {header: 'IN PROGRESS'},
          {header: 'FETCHED'},
          {header: 'SYNCED'},
          ...(rejected ? [{align: 'right' as const, header: 'REJECTED'}] : []),
        ],
        tables.map((table) => [
          table.name,
          table.kind ?? '',
          formatCount(table.rows),
          table.from ?? '',
          table.to ?? '',
          table.days?.gaps.join(', ') ?? '',
          table.days?.inProgress.join(', ') ?? '',
          utc(table.fetchedAt),
          utc(table.lastSync),
          ...(rejected ? [table.rejected > 0 ? formatCount(table.rejected) : ''] : []),
        ]),
      ),
    )
    if (rejected) this.log('Rejected records are in _mpx_rejects: mpx sql "SELECT * FROM _mpx_rejects"')
    return tables
  }
}
