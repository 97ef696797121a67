import {UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {ajvClass} from 'mpx-mixpanel-core/internal/lazy-ajv.js'
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
  if (Object.keys(copy).length === 0 && acceptsNoOptions(sink.optionsSchema)) return copy
  const Ajv = ajvClass()
  // validateSchema: false: a plugin's schema was checked when its sink was found (checkSink in the
  // registry), the built-ins' are ours; checking again against JSON Schema's meta-schema would compile
  // that first, the largest part of ajv's cost at every fetch's start.
  const validate = new Ajv({allErrors: false, coerceTypes: true, useDefaults: true, validateSchema: false}).compile(
    sink.optionsSchema,
  )
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

/** Top-level keywords that no empty options object can fail and that add no default to it. */
const PASSIVE_KEYWORDS = new Set([
  '$comment',
  '$id',
  '$schema',
  'additionalProperties',
  'description',
  'properties',
  'title',
  'type',
])

/**
 * True when no options at all are valid against `schema` and receive no default: an object schema
 * with nothing required and no property default (`--stdout`). Validating them would change nothing,
 * so ajv is not even loaded.
 */
function acceptsNoOptions(schema: object): boolean {
  const {properties, type} = schema as {properties?: unknown; type?: unknown}
  if (type !== 'object' || !Object.keys(schema).every((keyword) => PASSIVE_KEYWORDS.has(keyword))) return false
  if (properties === undefined) return true
  if (typeof properties !== 'object' || properties === null) return false
  return Object.values(properties).every(
    (property) => typeof property === 'object' && property !== null && !('default' in property),
  )
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
