/** The error a promise rejects with (with the exit code of an mpx error, when it has one); throws when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<Error & {exitCode?: number}> {
  try {
    await promise
  } catch (error) {
    return error as Error & {exitCode?: number}
  }

  throw new Error('expected a rejection')
}
