/**
 * Entry of the benchmark server's own process: one ServerConfig in over IPC, its ServerInfo out,
 * then it serves until the parent disconnects.
 */
import {serve, type ServerConfig} from './server.js'

process.once('message', (config: ServerConfig) => {
  serve(config).then(
    (info) => process.send?.({info}),
    (error: unknown) =>
      process.send?.({error: error instanceof Error ? (error.stack ?? error.message) : String(error)}),
  )
})
// eslint-disable-next-line n/no-process-exit
process.on('disconnect', () => process.exit(0))
