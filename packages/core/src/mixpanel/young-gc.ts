import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

/**
 * Decompressed export data goes by in short-lived buffers whose memory lies outside V8's heap. V8
 * frees them at its cheap minor collections, but those only run as JavaScript objects are
 * allocated, which a pipeline working on bytes hardly does; the buffers then pile up until
 * external memory pressure forces full collections, which cost far more time while peak RSS grows
 * by tens of megabytes. A minor collection every few megabytes of buffers keeps both down
 * (measured on a 2-core machine: peak RSS 200 → 105 MB and twice the throughput for the same
 * download and gunzip).
 *
 * Off by default: `enableYoungCollections()` turns it on for the process (the CLI does). It needs
 * V8's gc function, which is exposed to a fresh context only, never to the program's globals.
 */

const INTERVAL_BYTES = 4 * 1024 * 1024

type MinorCollection = (options: {type: 'minor'}) => void

let collect: MinorCollection | undefined
let pendingBytes = 0

export function enableYoungCollections(): void {
  if (collect) return
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    if (typeof gc === 'function') collect = gc as MinorCollection
  } catch {
    // Without it, V8's own schedule: slower and bigger, not wrong.
  }
}

/** Counts buffer bytes gone by; every INTERVAL_BYTES, a minor collection (when enabled). */
export function noteBufferBytes(bytes: number): void {
  pendingBytes += bytes
  if (pendingBytes < INTERVAL_BYTES || !collect) return
  pendingBytes = 0
  collect({type: 'minor'})
}
