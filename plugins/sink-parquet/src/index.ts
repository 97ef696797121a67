export type {ParquetSinkSettings} from './options.js'
export {parquetSink} from './parquet-sink.js'
