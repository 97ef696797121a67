import type {AddressInfo} from 'node:net'

import {expect} from 'chai'
import {MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {
  firstNonJsonLine,
  quoteStart,
  scanLines,
  TERMINATED,
} from 'mpx-mixpanel-core/internal/mixpanel/export/not-an-export.js'
import {type ExportQuery} from 'mpx-mixpanel-core/internal/mixpanel/export/query.js'
import {exportLines} from 'mpx-mixpanel-core/internal/mixpanel/export/source.js'
import {once} from 'node:events'
import {createServer} from 'node:http'

import {runMpx, serviceAccountEnv} from '../../../support/cli.js'
import {type FakeMixpanel, LOGIN_PAGE, startFakeMixpanel} from '../../../support/fake-mixpanel.js'
import {generateEvents} from '../../../support/generate.js'
import {rejection} from '../../../support/rejection.js'
import {collect, testClient} from '../../../support/source.js'

const events = generateEvents({count: 60, from: '2024-01-01', seed: 3, to: '2024-01-05'})
const allLines = [...events.lines()]
const query: ExportQuery = {from: '2024-01-01', to: '2024-01-05'}

/** What a failed export ends with, and the lines delivered before. */
async function failure(server: FakeMixpanel, attempts = 4): Promise<{delivered: string[]; error: Error}> {
  const delivered: string[] = []
  try {
    for await (const batch of exportLines(testClient(server.url, attempts), query, {chunkDays: 30})) {
      delivered.push(...batch)
    }
  } catch (error) {
    return {delivered, error: error as Error}
  }

  throw new Error('expected the export to fail')
}

describe('a 200 that is not an export', () => {
  let server: FakeMixpanel

  before(async () => {
    server = await startFakeMixpanel({events})
  })

  after(async () => server.close())

  beforeEach(() => {
    server.reset()
    server.setEvents(events)
  })

  it('an HTML login page: says what came back and that it is not an export, after asking twice', async () => {
    server.fail('export', {notAnExport: LOGIN_PAGE}, Number.POSITIVE_INFINITY)
    const {delivered, error} = await failure(server)
    expect(delivered).to.deep.equal([])
    expect(error).to.be.instanceOf(MpxError)
    expect(error.message).to.equal(
      'The answer for 2024-01-01..2024-01-05 is not a Mixpanel export (a proxy or login page in the way?): ' +
        'HTTP 200, content type "text/html; charset=utf-8", a line starting "<!DOCTYPE html>"',
    )
    expect(error.message).to.not.match(/terminated|chunk/)
    expect(server.requests.filter((request) => request.endpoint === 'export')).to.have.lengthOf(2)
  })

  it('once only: the second answer, a real export, is delivered whole', async () => {
    server.fail('export', {notAnExport: LOGIN_PAGE}, 1)
    expect(await collect(exportLines(testClient(server.url), query, {chunkDays: 30}))).to.deep.equal(allLines)
  })

  it('with no retries (--retries 0): one request, the same report', async () => {
    server.fail('export', {notAnExport: LOGIN_PAGE}, Number.POSITIVE_INFINITY)
    const {error} = await failure(server, 1)
    expect(error.message).to.include('is not a Mixpanel export')
    expect(server.requests).to.have.lengthOf(1)
  })

  it('a text body without a newline, with control characters: quoted escaped, never raw', async () => {
    server.fail('export', {contentType: 'text/plain', notAnExport: 'Access denied \u001B[31mby policy'}, 2)
    const {error} = await failure(server)
    expect(error.message).to.include('content type "text/plain"')
    expect(error.message).to.include(String.raw`a line starting "Access denied \u001b[31mby policy"`)
    expect(error.message).to.not.include('\u001B')
  })

  it('a non-JSON line after records: the records before it only, then the report', async () => {
    // A body the fake cannot make (its records must be JSON): records, then a line of text.
    const body = [...allLines.slice(0, 10), 'upstream timeout, please retry', ...allLines.slice(10), ''].join('\n')
    const proxy = createServer((_request, response) => {
      response.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'})
      response.end(body)
    })
    proxy.listen(0, '127.0.0.1')
    await once(proxy, 'listening')
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      const delivered: string[] = []
      const error = await rejection(
        (async () => {
          for await (const batch of exportLines(testClient(url), query, {chunkDays: 30})) delivered.push(...batch)
        })(),
      )
      expect(allLines.slice(0, delivered.length)).to.deep.equal(delivered)
      expect(delivered.length).to.be.at.most(10)
      expect(error.message).to.include('is not a Mixpanel export')
      expect(error.message).to.include('a line starting "upstream timeout, please retry"')
    } finally {
      proxy.close()
    }
  })

  it('lines that are JSON but not events are not this error (they are bad records)', () => {
    const lines = Buffer.from(['{"event":"a","properties":{}}', 'null', '[1,2]', '{"foo":1}', '42', ''].join('\n'))
    expect(firstNonJsonLine(lines)).to.equal(undefined)
    expect(firstNonJsonLine(Buffer.from('{"event":"a"}\n<html>\n'))).to.equal('<html>')
    expect(quoteStart('x'.repeat(100))).to.equal(`"${'x'.repeat(60)}"…`)
  })

  it('one look per line finds `terminated early` as a search of the whole text does', () => {
    // The reference: every occurrence of the words, and the line around it.
    const searched = (lines: Buffer): boolean => {
      const marker = Buffer.from('terminated early')
      for (let at = lines.indexOf(marker); at !== -1; at = lines.indexOf(marker, at + 1)) {
        const start = lines.lastIndexOf(10, at) + 1
        const end = lines.indexOf(10, at)
        if (TERMINATED.test(lines.toString('utf8', start, end === -1 ? lines.length : end))) return true
      }

      return false
    }

    const pieces = [
      '{"event":"a","properties":{"time":1}}',
      '{"event":"a","properties":{"x":"terminated early"}}',
      '{"event":"cut","prop',
      'terminated early',
      'export terminated early',
      'terminated early ',
      'terminated early\r',
      'terminated early\u00A0',
      '"terminated early"',
      'terminated earlyish',
      '<html>',
      '',
      'null',
    ]
    let seed = 7
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed
    }

    for (let round = 0; round < 2000; round++) {
      const lines = Array.from({length: 1 + (next() % 5)}, () => pieces[next() % pieces.length])
      // Whole lines, and a cut record and the words on one line, as Mixpanel may send them.
      const text = next() % 4 === 0 ? `${lines.join('')}\n` : `${lines.join('\n')}\n`
      const bytes = Buffer.from(text)
      expect(scanLines(bytes).terminated, JSON.stringify(text)).to.equal(searched(bytes))
    }

    expect(scanLines(Buffer.from('{"event":"a","prop\nexport terminated early\n'))).to.deep.equal({
      foreign: 'export terminated early',
      terminated: true,
    })
    expect(scanLines(Buffer.from('{"event":"a","properties":{}}\n'))).to.deep.equal({
      foreign: undefined,
      terminated: false,
    })
  })

  it('the CLI: exit 1, one line, nothing on stdout', async () => {
    server.fail('export', {notAnExport: LOGIN_PAGE}, Number.POSITIVE_INFINITY)
    const env = serviceAccountEnv(server.url, {secret: 's', username: 'u'}, {MPX_RETRY_DELAY_MS: '1'})
    const result = await runMpx(['fetch:events', '2024-01-01', '2024-01-05', '--stdout', '--project-id', '42'], {env})
    expect(result.code, result.stderr).to.equal(1)
    expect(result.stdout).to.equal('')
    const lines = result.stderr.trimEnd().split('\n')
    expect(lines.at(-1)).to.match(/^Error: The answer for 2024-01-01\.\.2024-01-05 is not a Mixpanel export/)
    expect(lines.filter((line) => line.startsWith('Error'))).to.have.lengthOf(1)
  })
})
