import {expect} from 'chai'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import type {Sink} from '../../src/sinks/sink.js'

import {checkTableName, parseSinkOptions, validateSinkOptions} from '../../src/sinks/options.js'

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

  describe('validateSinkOptions without options', () => {
    const sink = (optionsSchema: object): Sink => ({name: 'probe', optionsSchema}) as unknown as Sink
    const outcome = (optionsSchema: object) => {
      try {
        return validateSinkOptions(sink(optionsSchema), {})
      } catch (error) {
        return (error as Error).message
      }
    }

    it('are valid, unchanged, against a schema that requires nothing and adds no default (no ajv needed)', () => {
      const schema = {additionalProperties: false, properties: {output: {minLength: 1, type: 'string'}}, type: 'object'}
      expect(outcome(schema)).to.deep.equal({})
      expect(outcome({type: 'object'})).to.deep.equal({})
    })

    it('still meet what the schema asks: required options, defaults, other keywords', () => {
      expect(outcome({properties: {path: {type: 'string'}}, required: ['path'], type: 'object'})).to.equal(
        '--sink-option path is missing (sink "probe")',
      )
      expect(outcome({properties: {threads: {default: 2, type: 'integer'}}, type: 'object'})).to.deep.equal({
        threads: 2,
      })
      expect(outcome({minProperties: 1, type: 'object'})).to.be.a('string')
    })
  })
})
