import {expect} from 'chai'
import {InterruptedError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {PassThrough, Readable} from 'node:stream'

import {promptHidden, readSecretFromStream, type TerminalInput} from '../../src/config/secret-input.js'
import {rejection} from '../support/rejection.js'

/** A stand-in for a TTY stdin: records raw-mode switches. */
function fakeTerminal(): PassThrough & TerminalInput & {rawModes: boolean[]} {
  const rawModes: boolean[] = []
  const stream = new PassThrough()
  return Object.assign(stream, {
    isRaw: false,
    rawModes,
    setRawMode(mode: boolean) {
      rawModes.push(mode)
      return stream
    },
  })
}

function collectOutput(): {stream: PassThrough; text: () => string} {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return {stream, text: () => Buffer.concat(chunks).toString('utf8')}
}

describe('secret input', () => {
  describe('readSecretFromStream', () => {
    it('reads everything, without the trailing newline, across chunks', async () => {
      expect(await readSecretFromStream(Readable.from(['abc', 'def\n']))).to.equal('abcdef')
      expect(await readSecretFromStream(Readable.from([Buffer.from('abc\r\n')]))).to.equal('abc')
      expect(await readSecretFromStream(Readable.from(['no-newline']))).to.equal('no-newline')
    })

    it('removes one trailing newline only, so that a two-line input is not silently accepted', async () => {
      expect(await readSecretFromStream(Readable.from(['one\ntwo\n']))).to.equal('one\ntwo')
    })

    it('refuses empty input and oversized input', async () => {
      expect(await rejection(readSecretFromStream(Readable.from(['\n'])))).to.be.instanceOf(UsageError)
      expect(await rejection(readSecretFromStream(Readable.from([])))).to.be.instanceOf(UsageError)
      expect(await rejection(readSecretFromStream(Readable.from(['x'.repeat(5000)])))).to.be.instanceOf(UsageError)
    })
  })

  describe('promptHidden', () => {
    it('asks on the output, reads keys in raw mode without echoing them, and restores the mode', async () => {
      const input = fakeTerminal()
      const output = collectOutput()
      const answer = promptHidden('Secret: ', input, output.stream)
      input.write('s3c')
      input.write('ret\r')
      expect(await answer).to.equal('s3cret')
      expect(output.text()).to.equal('Secret: \n')
      expect(input.rawModes).to.deep.equal([true, false])
    })

    it('turns echo off before showing the question, so that no key typed after it is echoed', async () => {
      const input = fakeTerminal()
      const output = new PassThrough()
      const order: string[] = []
      output.on('data', () => order.push(`question (raw mode: ${input.rawModes.join(',')})`))
      const answer = promptHidden('Secret: ', input, output)
      input.write('x\r')
      await answer
      expect(order[0]).to.equal('question (raw mode: true)')
    })

    it('handles backspace, Ctrl-U, arrow keys and multi-byte characters', async () => {
      const input = fakeTerminal()
      const output = collectOutput()
      const answer = promptHidden('Secret: ', input, output.stream)
      input.write('junk\u0015ab\u007Fc\u001B[D')
      const euro = Buffer.from('€')
      input.write(euro.subarray(0, 1))
      input.write(Buffer.concat([euro.subarray(1), Buffer.from('\n')]))
      expect(await answer).to.equal('ac€')
      expect(output.text()).to.equal('Secret: \n')
    })

    it('stops with InterruptedError on Ctrl-C, and refuses an empty answer', async () => {
      const interrupted = fakeTerminal()
      const pending = promptHidden('Secret: ', interrupted, collectOutput().stream)
      interrupted.write('abc\u0003')
      expect(await rejection(pending)).to.be.instanceOf(InterruptedError)
      expect(interrupted.rawModes).to.deep.equal([true, false])

      const empty = fakeTerminal()
      const emptyAnswer = promptHidden('Secret: ', empty, collectOutput().stream)
      empty.write('\r')
      expect(await rejection(emptyAnswer)).to.be.instanceOf(UsageError)
    })

    it('takes Ctrl-D or the end of input as the end of the secret', async () => {
      const input = fakeTerminal()
      const answer = promptHidden('Secret: ', input, collectOutput().stream)
      input.write('abc\u0004')
      expect(await answer).to.equal('abc')
    })
  })
})
