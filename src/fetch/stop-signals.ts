import {ExitCode, InterruptedError} from 'mpx-mixpanel-core/internal/errors.js'

/** The signals that stop a fetch or a sync cleanly, with the exit code (128 + the signal's number) and message of each. */
export const STOP_SIGNALS = {
  SIGHUP: {exitCode: ExitCode.HungUp, message: 'Interrupted by SIGHUP (the terminal closed)'},
  SIGINT: {exitCode: ExitCode.Interrupted, message: 'Interrupted'},
  SIGTERM: {exitCode: ExitCode.Terminated, message: 'Interrupted by SIGTERM'},
} as const

/**
 * Runs `work` with a signal that Ctrl-C, SIGTERM (a service manager, `timeout`) and SIGHUP (a
 * closed terminal) abort with an InterruptedError: the work then rolls back or keeps what it
 * committed, as the library does for any aborted signal. A second signal does not wait for the
 * clean-up. Only the CLI installs these handlers; the library never touches process signals.
 */
export async function withStopSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals) => {
    const {exitCode, message} = STOP_SIGNALS[signal as keyof typeof STOP_SIGNALS]
    interrupts++
    // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit
    if (interrupts > 1) process.exit(exitCode)
    controller.abort(new InterruptedError(message, {exitCode}))
  }

  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, onSignal)
  try {
    return await work(controller.signal)
  } finally {
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, onSignal)
  }
}

/**
 * An abort controller that follows the caller's signal (when there is one), with the reason made an
 * InterruptedError: what a fetch or a sync throws when it was stopped. `dispose` stops following.
 */
export function followSignal(signal: AbortSignal | undefined): {controller: AbortController; dispose: () => void} {
  const controller = new AbortController()
  if (!signal) return {controller, dispose() {}}
  const abort = () => controller.abort(interruption(signal.reason))
  if (signal.aborted) abort()
  else signal.addEventListener('abort', abort, {once: true})
  return {controller, dispose: () => signal.removeEventListener('abort', abort)}
}

/** The reason of an abort as an InterruptedError (a caller's plain `abort()` gives a DOMException). */
export function interruption(reason: unknown): InterruptedError {
  if (reason instanceof InterruptedError) return reason
  const message = reason instanceof Error && reason.name !== 'AbortError' ? `Aborted: ${reason.message}` : 'Aborted'
  return new InterruptedError(message, {cause: reason})
}
