export {parquetSink, type ParquetSinkSettings} from './parquet-sink.js'
