import type {Hook} from '@oclif/core'

import {ExitCode} from 'mpx-mixpanel-core/internal/errors.js'

/** Edits (insertions, deletions, substitutions) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }

    previous = current
  }

  return previous[b.length]
}

/** The command a mistyped id most likely meant: the nearest within a third of its length, if any. */
export function closestCommand(id: string, ids: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(id.length / 3)) + 1
  for (const candidate of ids) {
    const distance = editDistance(id, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }

  return best
}

/**
 * An unknown command is a usage error like any other: one line with the likely command, exit 3
 * (oclif's default is a wrapped "command not found" and exit 1).
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const suggestion = closestCommand(options.id, options.config.commandIDs)
  const hint = suggestion ? `did you mean ${suggestion}? (see mpx --help)` : 'see mpx --help'
  process.stderr.write(`Error: Unknown command "${options.id}": ${hint}\n`)
  this.exit(ExitCode.Usage)
}

export default hook
