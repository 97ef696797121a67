import {expect} from 'chai'
import {exportLines} from 'mpx-mixpanel-core/internal/mixpanel/export/source.js'
import {RequestPacer} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'

import {PACED_NOTE, progressNotes} from '../../src/fetch/events.js'
import {runMpx} from '../support/cli.js'
import {type FakeMixpanel} from '../support/fake-mixpanel.js'
import {generateEvents} from '../support/generate.js'
import {useFakeMixpanel} from '../support/hooks.js'
import {collect, testClient} from '../support/source.js'

describe('pacing is visible', () => {
  let server: FakeMixpanel

  useFakeMixpanel({events: generateEvents({count: 80, from: '2024-01-01', seed: 4, to: '2024-01-08'})}, (started) => {
    server = started
  })

  it('the export says when a request waited for the pacer, and how long', async () => {
    const waits: number[] = []
    // One request per 200 ms: eight one-day chunks at once wait for their turns.
    const pacer = new RequestPacer({perWindow: 1, windowMs: 200})
    const query = {from: '2024-01-01', to: '2024-01-08'}
    const lines = await collect(
      exportLines(testClient(server.url), query, {
        chunkDays: 1,
        concurrency: 8,
        onPaced: (ms) => waits.push(ms),
        pacer,
      }),
    )
    expect(lines).to.have.lengthOf(80)
    expect(waits.length).to.be.at.least(5)
    for (const ms of waits) expect(ms).to.be.greaterThan(0)
  })

  it('the progress line says requests are paced while they wait, beside the chunk', () => {
    const notes: string[] = []
    let now = 0
    const progress = progressNotes({note: (text) => notes.push(text)}, () => now)
    progress.chunk('2024-01-01..2024-01-01 (1/91)')
    progress.paced()
    now = 500
    progress.chunk('2024-01-02..2024-01-02 (2/91)')
    now = 5000
    progress.chunk('2024-01-03..2024-01-03 (3/91)')
    expect(notes).to.deep.equal([
      '2024-01-01..2024-01-01 (1/91)',
      `2024-01-01..2024-01-01 (1/91) · ${PACED_NOTE}`,
      `2024-01-02..2024-01-02 (2/91) · ${PACED_NOTE}`,
      // No request has waited for a while: pacing is not what holds the fetch now.
      '2024-01-03..2024-01-03 (3/91)',
    ])
    expect(PACED_NOTE).to.equal("requests paced at Mixpanel's 3 a second")
  })

  it("--concurrency's help says requests start at most 3 a second", async () => {
    const help = await runMpx(['fetch:events', '--help'])
    expect(help.stdout.replaceAll(/\s+/g, ' ')).to.include(
      "--concurrency=<value> [default: 1] Date chunks fetched at once, 1 to 100; records still come in date order, and requests still start at most 3 a second (Mixpanel's limit)",
    )
  })
})
