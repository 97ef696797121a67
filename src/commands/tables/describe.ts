import {Args, Flags} from '@oclif/core'

import {DatabaseCommand, databaseFlags} from '../../database-command.js'
import {formatCount} from '../../output/progress.js'

export default class TablesDescribe extends DatabaseCommand<typeof TablesDescribe> {
  static args = {
    name: Args.string({description: 'Table to describe', required: true}),
  }
  static description = `Show a table's columns and, for JSON columns such as properties, their most common keys.

Keys are counted over the whole table up to 100,000 rows, over a random sample of about 100,000 beyond.`
  static enableJsonFlag = true
  static examples = [
    {command: '<%= config.bin %> <%= command.id %> events', description: 'Columns and common property keys of events'},
    {
      command: '<%= config.bin %> <%= command.id %> profiles --keys 50 --json',
      description: 'The 50 most common profile properties, as JSON',
    },
  ]
  static flags = {
    ...databaseFlags,
    keys: Flags.integer({default: 20, description: 'How many of the most common keys to show', min: 1}),
  }

  async run(): Promise<unknown> {
    const path = await this.databaseFile(this.flags.db)
    const {describeTable} = await import('../../duckdb/tables.js')
    const {renderTable} = await import('../../output/text-table.js')
    const table = await describeTable(path, this.args.name, this.flags.keys)
    if (this.jsonEnabled()) return table

    const fetched =
      table.kind && table.fetchedAt
        ? `, ${table.kind}${table.from ? ` from ${table.from} to ${table.to}` : ''}, last fetched ${table.fetchedAt}`
        : ''
    this.log(`${table.name}: ${formatCount(table.rows)} ${table.rows === 1 ? 'row' : 'rows'}${fetched}`)
    if (table.days) {
      this.log(`Days held: ${table.days.covered.join(', ')}`)
      if (table.days.gaps.length > 0) this.log(`Gaps (never fetched): ${table.days.gaps.join(', ')}`)
      if (table.days.inProgress.length > 0) {
        this.log(`Fetched while in progress: ${table.days.inProgress.join(', ')}`)
      }
    }

    if (table.lastSync) this.log(`Last sync: ${table.lastSync}`)
    this.log('')
    this.log(
      renderTable(
        [{header: 'COLUMN'}, {header: 'TYPE'}, {header: 'NULLABLE'}],
        table.columns.map((column) => [column.name, column.type, column.nullable ? 'yes' : 'no']),
      ),
    )
    for (const [column, {examined, keys}] of Object.entries(table.keys)) {
      const sample = examined < table.rows ? ` (a sample of ${formatCount(examined)} rows)` : ''
      this.log(`\nMost common keys of ${column}${sample}:\n`)
      if (keys.length === 0) {
        this.log('(none)')
        continue
      }

      this.log(
        renderTable(
          [{header: 'KEY'}, {align: 'right', header: 'ROWS'}, {align: 'right', header: 'SHARE'}, {header: 'TYPES'}],
          keys.map((key) => [
            key.key,
            formatCount(key.rows),
            `${Math.round((100 * key.rows) / Math.max(examined, 1))}%`,
            key.types.join(', '),
          ]),
        ),
      )
    }

    return table
  }
}
