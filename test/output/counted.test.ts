import {expect} from 'chai'

import {counted} from '../../src/output/progress.js'

describe('counted', () => {
  it('says one thing in the singular and any other number in the plural, with thousands separated', () => {
    expect(counted(1, 'events')).to.equal('1 event')
    expect(counted(0, 'events')).to.equal('0 events')
    expect(counted(2000, 'chunks')).to.equal('2,000 chunks')
    expect(counted(1, 'days')).to.equal('1 day')
  })
})
