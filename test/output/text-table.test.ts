import {expect} from 'chai'
import stringWidth from 'string-width'

import {fitCell, renderTable} from '../../src/output/text-table.js'

/** Where each column starts on a line, in terminal columns: after each run of two spaces. */
function columnStarts(line: string): number[] {
  const starts: number[] = [0]
  for (const match of line.matchAll(/ {2,}(?=\S)/g)) {
    starts.push(stringWidth(line.slice(0, (match.index ?? 0) + match[0].length)))
  }

  return starts
}

describe('text tables (mpx sql on a terminal, mpx tables)', () => {
  it('lines up columns holding emoji, CJK and combining characters as a terminal shows them', () => {
    const table = renderTable(
      [{header: 'name'}, {align: 'right', header: 'n'}, {header: 'city'}],
      [
        ['plain', '1', 'Paris'],
        ['東京タワー', '22', '東京'],
        ['👍🏽 thumbs', '333', '🇯🇵'],
        ['e\u0301te\u0301', '4', 'Zürich'],
        ['👨‍👩‍👧 family', '5', 'x'],
      ],
    )
    const lines = table.split('\n')
    const starts = columnStarts(lines[0])
    expect(starts).to.have.lengthOf(3)
    // Every row's cells start at the header's columns (the right-aligned one ends there instead).
    for (const line of lines.slice(2)) {
      const cells = line.split(/ {2,}/)
      expect(stringWidth(cells[0]) <= starts[1] - 2, line).to.equal(true)
      expect(stringWidth(line.slice(0, line.lastIndexOf(cells[2]))), line).to.equal(starts[2])
    }

    // The rule is as wide as the widest cell of each column.
    expect(lines[1].split('  ').map((rule) => rule.length)).to.deep.equal([
      stringWidth('東京タワー'),
      3,
      stringWidth('Zürich'),
    ])
  })

  it('cuts long cells at a width in columns, never inside a character', () => {
    const cut = fitCell('你好'.repeat(40), 11)
    expect(cut).to.equal('你好你好你…')
    expect(stringWidth(cut)).to.equal(11)
    expect(fitCell('👨‍👩‍👧'.repeat(10), 5)).to.equal('👨‍👩‍👧👨‍👩‍👧…')
    expect(fitCell('a\nb\u0007', 10)).to.equal('a↵b·')
  })
})
