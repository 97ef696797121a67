import type {ErrorObject, ValidateFunction} from 'ajv'

import {chmod, mkdir, readFile, realpath, rename, rm, stat, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {MpxError, UsageError} from '../errors.js'
import {ajvClass} from '../lazy-ajv.js'
import {type Region, regions} from '../mixpanel/regions.js'
import {isTimezone} from '../records/wall-clock.js'
import {schemaMessage} from '../schema-messages.js'

export type AccountType = 'api-secret' | 'service-account'

export type AccountEntry = {
  projectId?: string
  region?: Region
  secret: string
  /** The project's timezone (IANA name), for legacy projects whose dates and times are local. */
  timezone?: string
  type: AccountType
  username?: string
}

export type ConfigFile = {
  accounts: Record<string, AccountEntry>
  defaultAccount?: string
}

export const ACCOUNT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'

const accountSchema = {
  additionalProperties: false,
  allOf: [
    {
      if: {properties: {type: {const: 'service-account'}}},
      // eslint-disable-next-line unicorn/no-thenable -- JSON Schema's if/then, not a promise.
      then: {required: ['username', 'projectId']},
    },
  ],
  properties: {
    projectId: {pattern: '^[0-9]+$', type: 'string'},
    region: {enum: regions},
    // One line, no blanks: a secret with a space or line break was pasted or piped wrongly.
    secret: {minLength: 1, pattern: String.raw`^\S+$`, type: 'string'},
    timezone: {format: 'timezone', type: 'string'},
    type: {enum: ['service-account', 'api-secret']},
    username: {minLength: 1, type: 'string'},
  },
  required: ['type', 'secret'],
  type: 'object',
} as const

const schema = {
  additionalProperties: false,
  properties: {
    accounts: {
      additionalProperties: accountSchema,
      propertyNames: {pattern: ACCOUNT_NAME_PATTERN},
      type: 'object',
    },
    defaultAccount: {type: 'string'},
  },
  required: ['accounts'],
  type: 'object',
} as const

let validators: undefined | {account: ValidateFunction<AccountEntry>; config: ValidateFunction<ConfigFile>}

/** The compiled schemas, compiled when first needed: a fetch without a config file never needs them. */
function compiled(): NonNullable<typeof validators> {
  if (!validators) {
    // validateSchema: false: the schemas are ours, fixed and tested; checking them against JSON
    // Schema's meta-schema compiles that first, which costs more than the rest of ajv's work.
    const Ajv = ajvClass()
    const ajv = new Ajv({allErrors: true, validateSchema: false})
    // An IANA timezone name that Intl knows.
    ajv.addFormat('timezone', isTimezone)
    validators = {account: ajv.compile<AccountEntry>(accountSchema), config: ajv.compile<ConfigFile>(schema)}
  }

  return validators
}

/** A schema violation, located: `field` is a dotted path such as `accounts.prod.projectId`. */
export type ConfigProblem = {
  /** Dotted path of the offending value, `(top level)` for the root. */
  readonly field: string
  readonly keyword: string
  /** What is wrong, without the value itself (which may be a secret). */
  readonly message: string
}

/**
 * The CLI's config directory as oclif finds it (`$MPX_CONFIG_DIR`, else `$XDG_CONFIG_HOME/mpx`,
 * else `%LOCALAPPDATA%\\mpx` on Windows, else `~/.config/mpx`), for the library, which runs without
 * oclif but must read the same accounts.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.MPX_CONFIG_DIR) return env.MPX_CONFIG_DIR
  const windows = platform === 'win32'
  const windowsHome = (env.HOMEDRIVE && env.HOMEPATH && join(env.HOMEDRIVE, env.HOMEPATH)) || env.USERPROFILE
  const home = env.HOME || (windows && windowsHome) || homedir() || tmpdir()
  return join(env.XDG_CONFIG_HOME || (windows && env.LOCALAPPDATA) || join(home, '.config'), 'mpx')
}

/** Where the config file lives: `$MPX_CONFIG`, else `<configDir>/config.json`. */
export function configPath(configDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.MPX_CONFIG || join(configDir, 'config.json')
}

const field = (segments: string[]) => (segments.length > 0 ? segments.join('.') : '(top level)')

function problemOf(error: ErrorObject): ConfigProblem {
  const path = error.instancePath ? error.instancePath.slice(1).split('/') : []
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(error.params.additionalProperty)
      return {field: field([...path, name]), keyword: error.keyword, message: `unknown field "${name}"`}
    }

    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).join(', ')
      return {field: field(path), keyword: error.keyword, message: `must be one of ${allowed}`}
    }

    case 'format': {
      return {
        field: field(path),
        keyword: error.keyword,
        message: 'is not a timezone: use an IANA name such as America/Los_Angeles',
      }
    }

    case 'pattern':
    case 'propertyNames': {
      if (error.propertyName !== undefined || error.keyword === 'propertyNames') {
        const name = String(error.propertyName ?? error.params.propertyName)
        return {
          field: field([...path, name]),
          keyword: 'propertyNames',
          message: `"${name}" is not a valid account name (letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit)`,
        }
      }

      const last = path.at(-1)
      if (last === 'projectId') return {field: field(path), keyword: error.keyword, message: 'must be a number'}
      if (last === 'secret')
        return {field: field(path), keyword: error.keyword, message: 'must be one line without blanks'}
      return {field: field(path), keyword: error.keyword, message: schemaMessage(error)}
    }

    case 'required': {
      const name = String(error.params.missingProperty)
      return {field: field([...path, name]), keyword: error.keyword, message: 'is missing'}
    }

    case 'type': {
      // A project id written as a number: the schema wants its digits as a string.
      if (path.at(-1) === 'projectId') {
        return {field: field(path), keyword: error.keyword, message: 'must be a string of digits, in quotes'}
      }

      return {field: field(path), keyword: error.keyword, message: schemaMessage(error)}
    }

    default: {
      return {field: field(path), keyword: error.keyword, message: schemaMessage(error)}
    }
  }
}

/** The schema's first complaints, most useful first; `if`/`allOf` wrappers only repeat the real error. */
function problemsOf(errors: ErrorObject[] | undefined): ConfigProblem[] {
  const seen = new Set<string>()
  const problems: ConfigProblem[] = []
  for (const error of errors ?? []) {
    if (error.keyword === 'if' || error.keyword === 'allOf') continue
    const problem = problemOf(error)
    const key = `${problem.field} ${problem.message}`
    if (!seen.has(key)) problems.push(problem)
    seen.add(key)
  }

  return problems
}

/** Checks one account against the config file's schema: the entry, or what is wrong with it. */
export function checkAccountEntry(entry: unknown): {entry: AccountEntry} | {problems: ConfigProblem[]} {
  const validateAccount = compiled().account
  return validateAccount(entry) ? {entry} : {problems: problemsOf(validateAccount.errors ?? undefined)}
}

export function isValidAccountName(name: string): boolean {
  return new RegExp(ACCOUNT_NAME_PATTERN).test(name)
}

/**
 * A JSON syntax error's location. V8's own message quotes the text around the error, which in
 * this file may be a secret, so only the position is kept.
 */
function syntaxErrorLocation(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : ''
  const lineColumn = /line (\d+) column (\d+)/.exec(message)
  if (lineColumn) return ` at line ${lineColumn[1]}, column ${lineColumn[2]}`
  const position = /position (\d+)/.exec(message)
  if (!position) return ''
  const before = text.slice(0, Number(position[1]))
  const line = before.split('\n').length
  const column = before.length - before.lastIndexOf('\n')
  return ` at line ${line}, column ${column}`
}

/** Reads and validates the config file. A missing file is an empty config. */
export async function readConfig(path: string, warn?: (message: string) => void): Promise<ConfigFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {accounts: {}}
    throw new MpxError(`Cannot read config file ${path}: ${(error as Error).message}`)
  }

  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`Config file ${path} is not valid JSON${syntaxErrorLocation(error, text)}: fix or remove it`)
  }

  const validateConfig = compiled().config
  if (!validateConfig(data)) {
    const [problem] = problemsOf(validateConfig.errors ?? undefined)
    const what = problem ? `${problem.field} ${problem.message}` : 'does not match the expected format'
    throw new UsageError(`Config file ${path} is invalid: ${what}`)
  }

  if (warn && process.platform !== 'win32') {
    const {mode} = await stat(path)
    // eslint-disable-next-line no-bitwise -- permission bits for group and others.
    if (mode & 0o077) {
      warn(`Config file ${path} is readable by other users: run chmod 600 ${path}`)
    }
  }

  return data
}

/**
 * Writes the config file atomically, readable by its owner only (0600; a directory it has to
 * create is 0700). A symlinked config file (dotfiles) stays a symlink: its target is replaced.
 */
export async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  const target = await realpath(path).catch(() => path)
  const dir = dirname(target)
  await mkdir(dir, {mode: 0o700, recursive: true})
  const temporary = `${target}.${process.pid}.tmp`
  try {
    await writeFile(temporary, JSON.stringify(config, null, 2) + '\n', {mode: 0o600})
    // writeFile's mode is masked by the umask and ignored for an existing file.
    await chmod(temporary, 0o600)
    await rename(temporary, target)
  } catch (error) {
    await rm(temporary, {force: true})
    throw new MpxError(`Cannot write config file ${path}: ${(error as Error).message}`)
  }
}
