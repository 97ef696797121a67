import {MpxError} from '../errors.js'
import type {Sink} from './sink.js'

// Placeholder until the DuckDB sink lands.
export function duckdbSink(): Sink {
  return {
    description: 'A table in a local DuckDB database',
    formats: ['normalized'],
    name: 'duckdb',
    async open() {
      throw new MpxError('The DuckDB sink is not available yet: use --stdout')
    },
    optionsSchema: {type: 'object'},
  }
}
