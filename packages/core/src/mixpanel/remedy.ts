/**
 * What a caller can do about a failure of the API layer, named apart from its message: the
 * library's words name no CLI flag (its users never typed one), and the CLI puts its own words
 * (flags, commands) in their place where it reports the error (see src/cli-hints.ts).
 */
export type Remedy = 'check-credentials' | 'narrower-query' | 'smaller-chunks' | 'try-later-or-smaller-chunks'

/** An error whose message is `problem: <remedy in the library's words>`. */
export interface Remedied {
  readonly problem: string
  readonly remedy: Remedy
}

const libraryWords: {readonly [R in Remedy]: string} = {
  'check-credentials': 'check them, and the project id and region',
  'narrower-query': 'run again, with a narrower where expression or cohort if it persists',
  'smaller-chunks': 'try fewer days per request (chunkDays)',
  'try-later-or-smaller-chunks': 'try again later or with fewer days per request (chunkDays)',
}

/** `make(message)`, its message the problem and the remedy in the library's words. */
export function withRemedy<E extends Error>(
  make: (message: string) => E,
  problem: string,
  remedy: Remedy,
): E & Remedied {
  return Object.assign(make(`${problem}: ${libraryWords[remedy]}`), {problem, remedy})
}

/** The problem and remedy of an error made by withRemedy; undefined for any other. */
export function remedyOf(error: unknown): Remedied | undefined {
  if (!(error instanceof Error) || !('remedy' in error) || !('problem' in error)) return undefined
  const {problem, remedy} = error as Error & Remedied
  return typeof problem === 'string' && remedy in libraryWords ? {problem, remedy} : undefined
}
