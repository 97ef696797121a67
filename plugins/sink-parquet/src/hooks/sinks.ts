import type {SinksHook} from 'mpx-mixpanel'

import {parquetSink} from '../parquet-sink.js'

/** mpx runs this hook to list every plugin's sinks: it stays cheap (DuckDB loads when a fetch opens the sink). */
const hook: SinksHook = async () => [parquetSink()]

export default hook
