import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {checkTableName, parseSinkOptions} from '../../src/sinks/options.js'

describe('sink options and table names', () => {
  describe('checkTableName', () => {
    it('takes a letter, then letters, digits or _, up to 63 characters', () => {
      for (const name of ['events', 'E', 'pro_users_2024', `e${'x'.repeat(62)}`, 'select', 'from']) {
        expect(checkTableName(name)).to.equal(name)
      }
    })

    it('refuses anything else with a usage error that quotes the name', () => {
      for (const name of [
        'events; DROP TABLE events',
        'x"; DROP TABLE events; --',
        "o'brien",
        'two\nlines',
        'café',
        '_mpx_fetches',
        '1events',
        '',
        `e${'x'.repeat(63)}`,
        `e${'x'.repeat(10_000)}`,
      ]) {
        let failure: unknown
        try {
          checkTableName(name)
        } catch (error) {
          failure = error
        }

        expect(failure, JSON.stringify(name)).to.be.instanceOf(UsageError)
        expect((failure as Error).message).to.equal(
          `Table name ${JSON.stringify(name)} is not allowed: use a letter, then letters, digits or _ (at most 63 characters)`,
        )
      }
    })
  })

  describe('parseSinkOptions', () => {
    it('splits key=value pairs at the first =', () => {
      expect(parseSinkOptions(['path=a.duckdb', 'where=x=1', 'empty='])).to.deep.equal({
        empty: '',
        path: 'a.duckdb',
        where: 'x=1',
      })
    })

    it('refuses a pair without a key', () => {
      for (const pair of ['novalue', '=x']) {
        expect(() => parseSinkOptions([pair]), pair).to.throw(UsageError, `--sink-option "${pair}" is not key=value`)
      }
    })
  })
})
