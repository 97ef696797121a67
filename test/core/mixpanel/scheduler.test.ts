import {expect} from 'chai'
import {type Clock, pacerFor, RequestPacer} from 'mpx-mixpanel-core/internal/mixpanel/scheduler.js'

/** Virtual time: sleeping moves the clock forward at once, so tests never wait. */
function virtualClock(): Clock & {sleeps: number[]} {
  let now = 0
  const sleeps: number[] = []
  return {
    now: () => now,
    async sleep(ms, signal) {
      signal?.throwIfAborted()
      sleeps.push(ms)
      now += ms
    },
    sleeps,
  }
}

describe('request pacer', () => {
  it('lets at most 3 requests start in any second, first come first served', async () => {
    const clock = virtualClock()
    const pacer = new RequestPacer({clock})
    const starts: Array<{at: number; id: number}> = []
    await Promise.all(
      Array.from({length: 10}, async (_, id) => {
        await pacer.acquire()
        starts.push({at: clock.now(), id})
      }),
    )
    expect(starts.map((start) => start.id)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    for (const [i, start] of starts.entries()) {
      const inWindow = starts.filter((other) => other.at > start.at - 1000 && other.at <= start.at)
      expect(inWindow.length, `starts in the second before #${i}`).to.be.at.most(3)
    }

    // Ten starts at 3 a second take at least three seconds of (virtual) time.
    expect(starts.at(-1)?.at).to.be.at.least(3000)
  })

  it('keeps within an hourly budget on top of the per-second one, saying how long a start waits', async () => {
    const clock = virtualClock()
    const waits: number[] = []
    const pacer = new RequestPacer({clock, hourly: {perHour: 60}, onHourlyWait: (ms) => waits.push(ms)})
    const starts: number[] = []
    for (let i = 0; i < 130; i++) {
      await pacer.acquire()
      starts.push(clock.now())
    }

    for (const [i, at] of starts.entries()) {
      const inHour = starts.filter((other) => other > at - 3_600_000 && other <= at)
      expect(inHour.length, `starts in the hour before #${i}`).to.be.at.most(60)
    }

    // The 61st start waits for the hour since the first; the 121st for the hour since the 61st.
    expect(starts[60]).to.equal(starts[0] + 3_600_000)
    expect(starts[120]).to.equal(starts[60] + 3_600_000)
    expect(waits.length).to.be.greaterThan(0)
    expect(waits[0]).to.be.greaterThan(3_500_000)
  })

  it('without an hourly budget, never waits beyond the second', async () => {
    const clock = virtualClock()
    const pacer = new RequestPacer({clock})
    for (let i = 0; i < 90; i++) await pacer.acquire()
    expect(Math.max(...clock.sleeps)).to.be.at.most(1000)
  })

  it('does not wait while the window has room', async () => {
    const clock = virtualClock()
    const pacer = new RequestPacer({clock})
    await pacer.acquire()
    await pacer.acquire()
    await pacer.acquire()
    expect(clock.sleeps).to.deep.equal([])
  })

  it('rejects a waiting request whose signal aborts, and lets the next one through', async () => {
    const clock = virtualClock()
    const pacer = new RequestPacer({clock, perWindow: 1})
    await pacer.acquire()
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    let failure: unknown
    try {
      await pacer.acquire(controller.signal)
    } catch (error) {
      failure = error
    }

    expect((failure as Error).message).to.equal('stop')
    await pacer.acquire()
    expect(clock.now()).to.equal(1000)
  })

  it('is shared by everything that uses the same client', () => {
    const client = {}
    expect(pacerFor(client)).to.equal(pacerFor(client))
    expect(pacerFor(client)).to.not.equal(pacerFor({}))
  })
})
