import {InterruptedError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'

/** Far more than any Mixpanel secret: a bigger stdin is a wrong pipe, not a secret. */
const MAX_SECRET_BYTES = 4096

/** Reads a secret piped on stdin: all of it, without the trailing newline. */
export async function readSecretFromStream(input: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    size += buffer.length
    if (size > MAX_SECRET_BYTES)
      throw new UsageError(`--secret-stdin read more than ${MAX_SECRET_BYTES} bytes: pipe only the secret`)
    chunks.push(buffer)
  }

  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  if (secret.length === 0)
    throw new UsageError(
      '--secret-stdin read nothing: pipe the secret, e.g. mpx auth:add NAME --secret-stdin < secret.txt',
    )
  return secret
}

/** The parts of a TTY stdin the prompt needs (a fake one in tests). */
export type TerminalInput = NodeJS.ReadableStream & {
  isRaw?: boolean
  setRawMode(mode: boolean): unknown
}

// Terminal escape sequences (arrow keys, function keys): not part of a secret.
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\u001B(?:\[[\d;?]*[\d~A-Za-z]|O[A-Za-z]|.)?/g

/**
 * Asks for a secret on a terminal without echoing it: the question goes to `output` (stderr),
 * the keys typed are read in raw mode and nothing of them is written anywhere. Enter ends,
 * backspace and Ctrl-U edit, Ctrl-C interrupts.
 */
export async function promptHidden(
  question: string,
  input: TerminalInput,
  output: NodeJS.WritableStream,
): Promise<string> {
  const wasRaw = input.isRaw ?? false
  // Raw mode (no echo) before the question: keys typed as soon as it shows must not echo.
  input.setRawMode(true)
  output.write(question)
  // Decoded as text, so that a character typed in several bytes arrives whole.
  input.setEncoding('utf8')
  input.resume()
  let value = ''
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (error?: Error) => {
        input.off('data', onData)
        input.off('end', onEnd)
        if (error) reject(error)
        else resolve()
      }

      const onEnd = () => {
        stop(value ? undefined : new UsageError('No secret entered'))
      }

      const onData = (chunk: Buffer | string) => {
        for (const char of String(chunk).replaceAll(ESCAPE_SEQUENCE, '')) {
          switch (char) {
            case '\r':
            case '\n': {
              stop()
              return
            }

            case '\u{3}': {
              stop(new InterruptedError())
              return
            }

            case '\u{4}': {
              onEnd()
              return
            }

            case '\b':
            case '\u{7F}': {
              value = [...value].slice(0, -1).join('')
              break
            }

            case '\u{15}': {
              value = ''
              break
            }

            default: {
              if (char >= ' ') value += char
            }
          }
        }
      }

      input.on('data', onData)
      input.on('end', onEnd)
    })
  } finally {
    input.setRawMode(wasRaw)
    input.pause()
    output.write('\n')
  }

  if (value.length === 0) throw new UsageError('No secret entered')
  return value
}
