/** Plain-text tables for terminals: `mpx tables`, `mpx tables:describe`, and `mpx sql` on a TTY. */

export interface TextColumn {
  /** Numbers read better right-aligned. */
  readonly align?: 'left' | 'right'
  readonly header: string
}

/** Longest cell shown; longer ones are cut with an ellipsis (the full value is in JSONL or CSV). */
export const MAX_CELL_WIDTH = 60

/** One line per cell, control characters made visible, and at most `width` characters. */
export function fitCell(text: string, width = MAX_CELL_WIDTH): string {
  // eslint-disable-next-line no-control-regex
  const visible = text.replaceAll('\n', '↵').replaceAll(/[\u0000-\u001F\u007F]/g, '·')
  const characters = [...visible]
  return characters.length > width ? `${characters.slice(0, width - 1).join('')}…` : visible
}

/** Columns padded to their widest cell, under a header and a rule. */
export function renderTable(columns: readonly TextColumn[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((row) => columns.map((_, i) => fitCell(row[i] ?? '')))
  const widths = columns.map((column, i) =>
    Math.max([...column.header].length, ...cells.map((row) => [...row[i]].length)),
  )
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const padding = ' '.repeat(widths[i] - [...value].length)
        return columns[i].align === 'right' ? padding + value : value + padding
      })
      .join('  ')
      .trimEnd()
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => '─'.repeat(width))),
    ...cells.map((row) => line(row)),
  ].join('\n')
}
