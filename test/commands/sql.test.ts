import {expect} from 'chai'
import {parseLossless} from 'mpx-mixpanel-core/internal/records/json.js'
import {join} from 'node:path'

import {store, target} from '../support/duckdb.js'
import {useDatabase} from '../support/hooks.js'
import {normalizedEvents} from '../support/normalized.js'

const eventLines = normalizedEvents({count: 200, from: '2024-05-01', seed: 31, to: '2024-05-02'})

describe('sql', () => {
  const database = useDatabase('sql.duckdb', (path) => store(path, eventLines, target()))
  const sql = async (query: string, ...flags: string[]) => database.run(['sql', query, '--db', database.path, ...flags])

  it('prints JSON Lines when stdout is not a terminal: exact big integers, JSON as JSON, times in ISO UTC', async () => {
    const result = await sql(
      `SELECT 9223372036854775807 AS big, 123456789012345678901234567890::HUGEINT AS huge, 1.50::DECIMAL(5,2) AS price,
         NULL AS nothing, 'NaN'::DOUBLE AS nan, TIMESTAMPTZ '2024-05-01 12:00:00.123456+02' AS at, DATE '2024-05-01' AS day,
         [1, 2] AS list, {'a': 'x'} AS struct, '{"id":1234567890123456789}'::JSON AS doc, 'say "hi"' AS text, 1 AS big`,
    )
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(
      '{"big":9223372036854775807,"huge":123456789012345678901234567890,"price":1.50,"nothing":null,"nan":"NaN",' +
        '"at":"2024-05-01T10:00:00.123456Z","day":"2024-05-01","list":[1,2],"struct":{"a":"x"},' +
        '"doc":{"id":1234567890123456789},"text":"say \\"hi\\"","big:1":1}\n',
    )
  })

  it('gives back the stored events as streamed', async () => {
    const result = await sql('SELECT * FROM events ORDER BY rowid', '--format', 'jsonl')
    expect(result.code, result.stderr).to.equal(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines.map((line) => parseLossless(line))).to.deep.equal(eventLines.map((line) => parseLossless(line)))
  })

  it('prints CSV with a header, quoting where needed, NULL as an empty field', async () => {
    const result = await sql(
      `SELECT 'a,b' AS "comma, col", 'say "hi"' AS quote, NULL AS nothing, 12345678901234567890::HUGEINT AS big,
         '{"k":[1,2]}'::JSON AS doc UNION ALL SELECT 'line\nbreak', 'x', 'y', 1, NULL`,
      '--format',
      'csv',
    )
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.equal(
      '"comma, col",quote,nothing,big,doc\n"a,b","say ""hi""",,12345678901234567890,"{""k"":[1,2]}"\n"line\nbreak",x,y,1,\n',
    )
  })

  it('prints an aligned table with a row count, and counts rows beyond the first 1000', async () => {
    const result = await sql(
      `SELECT event_name, count(*) AS n, NULL AS nothing FROM events GROUP BY ALL ORDER BY n DESC, event_name LIMIT 2`,
      '--format',
      'table',
    )
    expect(result.code, result.stderr).to.equal(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^event_name +n +nothing$/)
    expect(lines[1]).to.match(/^─+ +─+ +─+$/)
    expect(lines[2]).to.match(/^[A-Z][a-z ]+ +\d+ +NULL$/)
    // Numbers are right-aligned, under a right-aligned header.
    expect(lines[0].indexOf(' n ') + 1).to.equal(lines[2].search(/\d +NULL$/))
    expect(lines.at(-1)).to.equal('(2 rows)')

    const many = await sql('SELECT range AS i FROM range(1500)', '--format', 'table')
    const manyLines = many.stdout.trimEnd().split('\n')
    expect(manyLines).to.have.length(2 + 1000 + 1)
    expect(manyLines.at(-1)).to.equal('(1,500 rows, first 1,000 shown: use --format jsonl or csv for all of them)')
  })

  it('opens the database read-only: a write is refused with exit 3 unless --write', async () => {
    const refused = await sql('CREATE TABLE scratch AS SELECT 1 AS x')
    expect(refused.code).to.equal(3)
    expect(refused.stderr).to.equal(
      'Error: mpx sql opens the database read-only, so CREATE was refused: pass --write to change it\n',
    )

    const written = await sql('CREATE TABLE scratch AS SELECT 42 AS x; SELECT x FROM scratch', '--write')
    expect(written.code, written.stderr).to.equal(0)
    expect(written.stdout).to.equal('{"x":42}\n')
    expect((await sql('SELECT x FROM scratch')).stdout).to.equal('{"x":42}\n')
    expect((await sql('DROP TABLE scratch', '--write')).code).to.equal(0)
  })

  it('exits 4 for an unknown table or database, 3 for SQL that does not parse, 1 when a query fails', async () => {
    const unknown = await sql('SELECT * FROM nope')
    expect(unknown.code).to.equal(4)
    expect(unknown.stderr).to.include('Table with name nope does not exist')

    const syntax = await sql('SELEC 1')
    expect(syntax.code).to.equal(3)
    expect(syntax.stderr).to.include('syntax error')

    const failing = await sql(`SELECT 'x'::INTEGER`)
    expect(failing.code).to.equal(1)
    expect(failing.stderr).to.include('Conversion Error')

    const missing = await database.run(['sql', 'SELECT 1', '--db', join(database.directory, 'missing.duckdb')])
    expect(missing.code).to.equal(4)
    expect(missing.stderr).to.include('No database at')
  })

  it('exits 3 for an unknown --format', async () => {
    const result = await sql('SELECT 1', '--format', 'xml')
    expect(result.code).to.equal(3)
  })
})
