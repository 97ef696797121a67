// Records every module a process loads, ESM imports and CommonJS requires alike (Node's in-thread
// module hooks see both), and writes their URLs to $MPX_MODULE_LOG when the process exits. Used by
// the start-up tests: node --import <this file> bin/run.js ...
import {writeFileSync} from 'node:fs'
// eslint-disable-next-line n/no-unsupported-features/node-builtins -- tests run on the repository's Node 24
import {registerHooks} from 'node:module'

const loaded = new Set()

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    loaded.add(resolved.url)
    return resolved
  },
})

process.on('exit', () => {
  if (process.env.MPX_MODULE_LOG) writeFileSync(process.env.MPX_MODULE_LOG, [...loaded].join('\n') + '\n')
})
