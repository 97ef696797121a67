import {expect} from 'chai'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- tests run on Node 24
import {crc32, gunzipSync} from 'node:zlib'

import {
  type BenchOptions,
  type BenchReport,
  computeRatios,
  duckdbCeiling,
  formatReport,
  quickOptions,
  rawBreakdown,
  type Row,
  runBench,
  saveReport,
  scenarioGroups,
  targets,
} from '../../bench/bench.js'
import {crc32Combine, gzipMember, gzipPart} from '../../bench/gzip-parts.js'

/** The quick mode's scenarios at tiny sizes: the structure of the report, never its figures. */
const tiny: BenchOptions = {
  ...quickOptions,
  concurrencyBytesPerSecond: 5_000_000,
  concurrencyEvents: 300,
  concurrencyLatencyMs: 20,
  events: 2000,
  // The npm peer is measured when an earlier `npm run bench` installed it; a test never installs it.
  installPeers: false,
  profiles: 1500,
  repeat: 1,
}

/** A measured row of the report: `records` of 1000 bytes each in `seconds`. */
function row(id: string, records: number, seconds: number, extra: Partial<Row> = {}): Row {
  return {bytes: records * 1000, id, label: id, records, seconds, status: 'ok', ...extra}
}

describe('benchmark (smoke)', function () {
  this.timeout(180_000)

  it('runs every scenario and reports each with its figures and baseline', async () => {
    const report = await runBench(tiny)
    const ids = report.rows.map((row) => row.id)
    for (const id of [
      'mpx-startup',
      'transport-node',
      'naive',
      'mpx-raw',
      'mpx-normalized',
      'duckdb-read-json',
      'mpx-duckdb',
      'transport-profiles',
      'mpx-profiles',
      'mpx-raw-small',
      'mpx-normalized-small',
      'mpx-concurrency-1',
      'mpx-concurrency-5',
      'mpx-sync-baseline',
      'mpx-sync',
      'mpx-raw-file',
      'mixpanel-import',
      'diy-duckdb',
      'node-startup',
      'import-oclif',
      'import-got',
      'mpx-raw-c2',
    ]) {
      expect(ids, id).to.include(id)
    }

    for (const row of report.rows) {
      expect(['ok', 'unavailable', 'failed'], row.id).to.include(row.status)
      expect(row.seconds, row.id)
        .to.be.a('number')
        .and.at.least(row.status === 'ok' ? Number.MIN_VALUE : 0)
      expect(row.records, row.id).to.be.a('number').and.at.least(0)
      if (row.status !== 'ok') expect(row.note, row.id).to.be.a('string')
    }

    // The streaming commands exist and run: their rows are measured, with a ratio to their baseline.
    const byId = (id: string) => report.rows.find((row) => row.id === id) as Row
    for (const id of ['mpx-raw', 'mpx-normalized', 'naive', 'transport-node'])
      expect(byId(id).status, id).to.equal('ok')
    expect(byId('mpx-raw').ratio).to.be.a('number')
    // A backfill by sync:events, compared with one fetch:events of the same range.
    expect(byId('mpx-sync').status).to.equal('ok')
    expect(byId('mpx-sync').ratio).to.be.a('number')
    expect(byId('mpx-normalized').ratio).to.be.a('number')
    expect(byId('mpx-raw').records).to.equal(2000)
    expect(report.memory).to.have.keys(['normalizedGrowth', 'rawGrowth'])
    expect(report.concurrency).to.include({chunkDays: 7, days: 30})
    expect(report.environment.cpus).to.be.greaterThan(0)

    const table = formatReport(report)
    expect(table.split('\n')[0]).to.equal(
      '| scenario | records | time (s) | records/s | MB/s | CPU (s) | peak RSS (MB) | vs baseline |',
    )
    expect(table).to.include('mpx fetch:events --stdout --raw')

    const directory = await mkdtemp(join(tmpdir(), 'mpx-bench-test-'))
    try {
      const file = await saveReport(report, directory)
      const saved = JSON.parse(await readFile(file, 'utf8')) as {options: BenchOptions; rows: Row[]}
      expect(saved.rows).to.have.length(report.rows.length)
      expect(saved.options.events).to.equal(2000)
    } finally {
      await rm(directory, {force: true, recursive: true})
    }
  })

  it('knows its scenario groups', () => {
    expect(scenarioGroups).to.include.members(['transport', 'stdout', 'memory', 'concurrency'])
  })

  it('compares each row with its baseline, the faster transport for `transport`', () => {
    const rows = [
      row('transport-curl', 100, 1),
      row('transport-node', 100, 2),
      row('naive', 100, 4),
      row('mpx-raw', 100, 1.25, {baseline: 'transport'}),
      row('mpx-normalized', 100, 2, {baseline: 'naive'}),
      row('mixpanel-import', 100, 5),
      row('mpx-raw-file', 100, 2.5, {baseline: 'transport-curl', moreBaselines: ['mixpanel-import', 'absent']}),
    ]
    computeRatios(rows)
    expect(rows[3].ratio).to.equal(0.8)
    expect(rows[4].ratio).to.equal(2)
    // Further baselines (the npm peer): one ratio each, none for a row that is not there.
    expect(rows[6].ratio).to.equal(0.4)
    expect(rows[6].moreRatios).to.deep.equal({'mixpanel-import': 2})
    expect(rows[5].moreRatios).to.equal(undefined)
  })

  it('bounds the DuckDB fetch by the CPU time that DuckDB and the fetch must share', () => {
    const environment = {cpus: 2} as BenchReport['environment']
    const rows = [
      row('duckdb-read-json', 100, 5, {cpuSeconds: 8}),
      row('mpx-normalized', 100, 6, {cpuSeconds: 7}),
      row('mpx-duckdb', 100, 10, {cpuSeconds: 15}),
    ]
    // (8 + 7) / 2 = 7.5 s at best, against 5 s for read_json.
    expect(duckdbCeiling({environment, rows})).to.deep.equal({ratio: 5 / 7.5, seconds: 7.5})
    expect(duckdbCeiling({environment: {...environment, cpus: 8}, rows})?.ratio).to.equal(1)
    expect(duckdbCeiling({environment, rows: rows.slice(0, 2)})).to.equal(undefined)
    expect(
      formatReport({
        environment: {
          ...environment,
          cpuModel: 'x',
          loadAverageAfter: [],
          loadAverageBefore: [],
          node: 'v24',
          rssMethod: 'time',
        },
        options: tiny,
        rows,
      } as unknown as BenchReport),
    ).to.include(
      "DuckDB fetch ceiling on 2 cores (estimate): read_json's CPU time plus the fetch's own (the --stdout row), spread over the cores, take 7.50s, about 0.67x read_json at best",
    )
  })

  it('splits the raw export into transfer and start-up, and checks each target', () => {
    const rows = [
      row('mpx-startup', 0, 0.2),
      row('transport-curl', 1000, 1.2),
      row('mpx-raw', 1000, 1.4, {peakRss: 120 * 1024 * 1024}),
      row('mpx-raw-c2', 1000, 1),
      row('curl-file', 1000, 1.2),
      row('mpx-raw-file', 1000, 1.6),
      row('naive', 1000, 10),
      row('mpx-normalized', 1000, 4, {peakRss: 130 * 1024 * 1024}),
      row('diy-duckdb', 1000, 8),
      row('mpx-duckdb', 1000, 6),
      row('mpx-sync-baseline', 1000, 6),
      row('mpx-sync', 1000, 7),
    ]
    // 0.8x curl is 1.2 / 0.8 = 1.5 s in all; the transfer takes 1.4 - 0.2 = 1.2 s of it.
    const raw = rawBreakdown({rows})
    expect(raw).to.deep.include({concurrentRatio: 1.2, curlSeconds: 1.2, startupSeconds: 0.2})
    expect(raw?.ratio).to.be.closeTo(1.2 / 1.4, 1e-9)
    expect(raw?.transferSeconds).to.be.closeTo(1.2, 1e-9)
    expect(raw?.startupNeeded).to.be.closeTo(0.3, 1e-9)
    expect(targets({rows}).map((target) => [target.name, target.met])).to.deep.equal([
      ['DuckDB fetch', true],
      ['raw --stdout', true],
      ['raw -o FILE', false],
      ['normalized --stdout', true],
      ['start-up', false],
      ['sync:events backfill', false],
      ['streaming peak RSS', true],
    ])
    // 6.9 s against 6 is 1.15x: met.
    expect(targets({rows: [row('mpx-sync-baseline', 1000, 6), row('mpx-sync', 1000, 6.9)]})).to.deep.equal([
      {goal: '<= 1.15x', measured: "1.15x one fetch's time", met: true, name: 'sync:events backfill'},
    ])
    expect(targets({rows: []})).to.deep.equal([])
  })

  it('serves gzip bodies assembled from parts compressed once', async () => {
    const a = Buffer.from('{"a":1}\n'.repeat(500))
    const b = Buffer.from('{"é":"東京"}\n'.repeat(300))
    expect(crc32Combine(crc32(a), crc32(b), b.length)).to.equal(crc32(Buffer.concat([a, b])))
    const parts = [await gzipPart(a, 6), await gzipPart(Buffer.alloc(0), 6), await gzipPart(b, 1)]
    expect(gunzipSync(Buffer.concat(gzipMember(parts))).equals(Buffer.concat([a, b]))).to.equal(true)
    expect(gzipMember([])).to.deep.equal([])
  })
})
