import {expect} from 'chai'

import type {SinksResult} from '../../src/sink-registry/catalog.js'

import {schemaOptions, wrapAfter} from '../../src/sink-registry/catalog.js'
import {runMpx} from '../support/cli.js'
import {oclifHome} from '../support/plugins.js'

describe('mpx sinks', () => {
  let home: Awaited<ReturnType<typeof oclifHome>>

  before(async () => {
    home = await oclifHome()
  })

  after(async () => home.remove())

  it('lists the built-in sinks with their plugin, formats and options', async () => {
    const result = await runMpx(['sinks'], {env: home.env})
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    const blocks = result.stdout.trimEnd().split('\n\n')
    expect(blocks).to.have.length(2)
    expect(blocks[0]).to.match(/^jsonl \(mpx\): .+\n {2}formats: normalized, raw\n {2}output=STRING +\S/)
    expect(blocks[1]).to.match(/^duckdb \(mpx\): Tables in a local DuckDB database/)
    // mpx fills the database's path in itself: not required of users, and its default said.
    expect(blocks[1]).to.match(/\n {2}path=STRING +The database file \(default: --db, \$MPX_DB, else [^\n]+\)\n/)
    expect(blocks[1]).to.not.include('(required)')
    expect(blocks[1]).to.match(/\n {2}threads=INTEGER +DuckDB worker threads/)
  })

  it('answers --json with the same, machine-readable', async () => {
    const result = await runMpx(['sinks', '--json'], {env: home.env})
    expect(result.code, result.stderr).to.equal(0)
    const {failures, sinks} = JSON.parse(result.stdout) as SinksResult
    expect(failures).to.deep.equal([])
    expect(sinks.map((sink) => [sink.name, sink.plugin, sink.formats])).to.deep.equal([
      ['jsonl', 'mpx', ['normalized', 'raw']],
      ['duckdb', 'mpx', ['normalized']],
    ])
    expect(sinks[1].options[0]).to.include({name: 'path', required: false, type: 'string'})
  })

  it('wraps long descriptions at the terminal width, under their column', () => {
    const prefix = '  memory_limit=STRING  '
    const text = "DuckDB's memory_limit while loading, e.g. 1GB (default 256MB; beyond it DuckDB spills to disk)"
    const lines = wrapAfter(prefix, text, 60).split('\n')
    expect(lines.length).to.be.greaterThan(1)
    for (const line of lines) expect(line.length).to.be.at.most(60)
    expect(lines[0].startsWith(prefix)).to.equal(true)
    for (const line of lines.slice(1)) expect(line).to.match(new RegExp(`^ {${prefix.length}}\\S`))
    expect(lines.map((line) => line.trim()).join(' ')).to.equal(`${prefix.trim()}  ${text}`)
    // Not a terminal: one line, for grep.
    expect(wrapAfter(prefix, text)).to.equal(`${prefix}${text}`)
  })

  it('exits 3 for an account flag, which does not apply', async () => {
    const result = await runMpx(['sinks', '--nope'], {env: home.env})
    expect(result.code).to.equal(3)
  })

  it('reads options from a schema: required first, enums and defaults kept', () => {
    expect(
      schemaOptions({
        properties: {
          a: {description: 'A', type: 'integer'},
          b: {default: 'x', enum: ['x', 'y'], type: 'string'},
          c: {type: 'string'},
        },
        required: ['c'],
        type: 'object',
      }),
    ).to.deep.equal([
      {default: undefined, description: undefined, enum: undefined, name: 'c', required: true, type: 'string'},
      {default: undefined, description: 'A', enum: undefined, name: 'a', required: false, type: 'integer'},
      {default: 'x', description: undefined, enum: ['x', 'y'], name: 'b', required: false, type: 'string'},
    ])
    expect(schemaOptions({type: 'object'})).to.deep.equal([])
  })
})
