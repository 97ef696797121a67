import {Ajv} from 'ajv'
import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {schemaMessage} from 'mpx-mixpanel-core/internal/schema-messages.js'

import type {Sink} from './sink.js'

/** `--sink-option key=value` pairs into an object (values stay strings; ajv coerces them). */
export function parseSinkOptions(pairs: readonly string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {}
  for (const pair of pairs) {
    const index = pair.indexOf('=')
    if (index <= 0) throw new UsageError(`--sink-option "${pair}" is not key=value`)
    options[pair.slice(0, index)] = pair.slice(index + 1)
  }

  return options
}

/** Checks (and coerces) a sink's options against its schema before any request is made. */
export function validateSinkOptions(
  sink: Sink,
  options: Record<string, unknown>,
  /** How the message names an option: the CLI's flag, or the library's `sink option`. */
  label = '--sink-option',
): Record<string, unknown> {
  const copy = structuredClone(options)
  const validate = new Ajv({allErrors: false, coerceTypes: true, useDefaults: true}).compile(sink.optionsSchema)
  if (!validate(copy)) {
    const [error] = validate.errors ?? []
    const named = error?.params?.additionalProperty ?? error?.params?.missingProperty ?? ''
    const field = error?.instancePath ? error.instancePath.slice(1) : String(named)
    const what =
      error?.keyword === 'additionalProperties' ? 'is not an option of this sink' : error && schemaMessage(error)
    throw new UsageError(`${label} ${field || '(options)'} ${what ?? 'is invalid'} (sink "${sink.name}")`)
  }

  return copy
}

const TABLE_NAME = /^[A-Za-z]\w{0,62}$/

/** Table names are checked before anything runs (and are still quoted wherever used in SQL). */
export function checkTableName(name: string): string {
  if (!TABLE_NAME.test(name)) {
    throw new UsageError(
      `Table name ${JSON.stringify(name)} is not allowed: use a letter, then letters, digits or _ (at most 63 characters)`,
    )
  }

  return name
}
