import {MpxError, NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

import {OutputClosedError} from '../output/line-writer.js'

/**
 * A DuckDB error from user SQL as an mpx error: a missing table is "not found" (exit 4), SQL that
 * does not parse or bind is a usage error (exit 3), a write on a read-only database says how to
 * allow it in one line, and anything else is a failure (exit 1). DuckDB's message for SQL that
 * does not parse or bind is kept, blank lines left out: its first line says what is wrong, and the
 * caret under the offending spot of the query (the lines after) is the most useful part.
 */
/** How a statement refused by a read-only database is explained: who opened it so, and how to change it. */
export interface SqlErrorWords {
  readonly opener: string
  readonly remedy: string
}

const CLI_SQL_WORDS: SqlErrorWords = {opener: 'mpx sql', remedy: 'pass --write to change it'}

export function sqlError(error: unknown, writable: boolean, words: SqlErrorWords = CLI_SQL_WORDS): Error {
  if (error instanceof MpxError || !(error instanceof Error))
    return error instanceof Error ? error : new MpxError(String(error))
  if (error instanceof OutputClosedError) return error
  const message = error.message.trim()
  if (!writable && /read-only mode|read only mode/i.test(message)) {
    // DuckDB's "Cannot execute statement of type "DROP" on database ... read-only mode!" says what
    // was refused; mpx's own words say why and what to do, on one line.
    const statement = /statement of type "(\w+)"/i.exec(message)?.[1]
    return new UsageError(
      `${words.opener} opens the database read-only${statement ? `, so ${statement} was refused` : ''}: ${words.remedy}`,
      {cause: error},
    )
  }

  const withCaret = message
    .split('\n')
    .filter((line) => line.trim() !== '')
    .join('\n')
  if (/Catalog Error: (Table|View|Schema) with name .* does not exist/.test(message)) {
    return new NotFoundError(withCaret, {cause: error})
  }

  if (/^(Failed to extract statements: )?(Parser|Binder|Catalog) Error/.test(message)) {
    return new UsageError(withCaret, {cause: error})
  }

  return new MpxError(message, undefined, {cause: error})
}
