/**
 * How `mpx sql` prints results. A module of its own, without DuckDB, so that the command's flags
 * (and `--help`) can list the formats without loading the database engine.
 */
export const sqlFormats = ['table', 'jsonl', 'csv'] as const
export type SqlFormat = (typeof sqlFormats)[number]

/** A table for people at a terminal, JSON Lines for pipes. */
export function defaultSqlFormat(isTTY: boolean | undefined): SqlFormat {
  return isTTY ? 'table' : 'jsonl'
}
