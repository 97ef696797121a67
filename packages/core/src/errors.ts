/**
 * Every failure mpx reports maps to one of these exit codes (documented in the README).
 * Commands throw MpxError subclasses; the base command turns them into one-line messages.
 */
export const ExitCode = {
  Auth: 2,
  Failure: 1,
  /** SIGHUP: the terminal went away (128 + 1). */
  HungUp: 129,
  Interrupted: 130,
  NotFound: 4,
  Ok: 0,
  /** The fetch finished and committed, but quarantined records it could not store. */
  Quarantined: 6,
  RateLimited: 5,
  /** SIGTERM, e.g. from a service manager or `timeout` (128 + 15). */
  Terminated: 143,
  Usage: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export class MpxError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bad credentials, or Mixpanel refused them. */
export class AuthError extends MpxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Auth, options)
  }
}

/** Bad input: dates, flags, table names, a `where` expression Mixpanel rejected. */
export class UsageError extends MpxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Usage, options)
  }
}

/** An account, table or sink that does not exist. */
export class NotFoundError extends MpxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.NotFound, options)
  }
}

/** Mixpanel kept answering 429 after every retry. */
export class RateLimitError extends MpxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.RateLimited, options)
  }
}

/** The user pressed Ctrl-C (or the caller aborted); SIGTERM and SIGHUP have exit codes of their own. */
export class InterruptedError extends MpxError {
  constructor(message = 'Interrupted', options?: ErrorOptions & {exitCode?: ExitCode}) {
    super(message, options?.exitCode ?? ExitCode.Interrupted, options)
  }
}
