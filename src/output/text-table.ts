/** Plain-text tables for terminals: `mpx tables`, `mpx tables:describe`, and `mpx sql` on a TTY. */

import stringWidth from 'string-width'

export interface TextColumn {
  /** Numbers read better right-aligned. */
  readonly align?: 'left' | 'right'
  readonly header: string
}

/** Longest cell shown; longer ones are cut with an ellipsis (the full value is in JSONL or CSV). */
export const MAX_CELL_WIDTH = 60

const graphemes = new Intl.Segmenter('en', {granularity: 'grapheme'})

/**
 * One line per cell, control characters made visible, and at most `width` terminal columns: CJK
 * characters and most emoji take two, combining marks none (string-width counts them as terminals do).
 */
export function fitCell(text: string, width = MAX_CELL_WIDTH): string {
  // eslint-disable-next-line no-control-regex
  const visible = text.replaceAll('\n', '↵').replaceAll(/[\u0000-\u001F\u007F]/g, '·')
  if (stringWidth(visible) <= width) return visible
  let kept = ''
  let used = 0
  for (const {segment} of graphemes.segment(visible)) {
    const columns = stringWidth(segment)
    if (used + columns > width - 1) break
    kept += segment
    used += columns
  }

  return `${kept}…`
}

/** Columns padded to their widest cell (in terminal columns), under a header and a rule. */
export function renderTable(columns: readonly TextColumn[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((row) => columns.map((_, i) => fitCell(row[i] ?? '')))
  const widths = columns.map((column, i) =>
    Math.max(stringWidth(column.header), ...cells.map((row) => stringWidth(row[i]))),
  )
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const padding = ' '.repeat(widths[i] - stringWidth(value))
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
