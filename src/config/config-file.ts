import {Ajv, type ErrorObject} from 'ajv'
import {chmod, mkdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {MpxError, UsageError} from '../errors.js'
import {regions, type Region} from '../mixpanel/regions.js'

export interface AccountEntry {
  projectId?: string
  region?: Region
  secret: string
  type: 'api-secret' | 'service-account'
  username?: string
}

export interface ConfigFile {
  accounts: Record<string, AccountEntry>
  defaultAccount?: string
}

export const ACCOUNT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'

const schema = {
  additionalProperties: false,
  properties: {
    accounts: {
      additionalProperties: {
        additionalProperties: false,
        allOf: [
          {
            if: {properties: {type: {const: 'service-account'}}},
            then: {required: ['username', 'projectId']},
          },
        ],
        properties: {
          projectId: {pattern: '^[0-9]+$', type: 'string'},
          region: {enum: regions},
          secret: {minLength: 1, type: 'string'},
          type: {enum: ['service-account', 'api-secret']},
          username: {minLength: 1, type: 'string'},
        },
        required: ['type', 'secret'],
        type: 'object',
      },
      propertyNames: {pattern: ACCOUNT_NAME_PATTERN},
      type: 'object',
    },
    defaultAccount: {type: 'string'},
  },
  required: ['accounts'],
  type: 'object',
} as const

const validate = new Ajv({allErrors: false}).compile<ConfigFile>(schema)

/** Where the config file lives: `$MPX_CONFIG`, else `<configDir>/config.json`. */
export function configPath(configDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.MPX_CONFIG || join(configDir, 'config.json')
}

function describeError(error: ErrorObject | undefined): string {
  if (!error) return 'invalid'
  const where = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '(top level)'
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown field "${String(error.params.additionalProperty)}"`
  }

  if (error.keyword === 'required') return `${where}: missing field "${String(error.params.missingProperty)}"`
  return `${where} ${error.message ?? 'is invalid'}`
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
    throw new UsageError(`Config file ${path} is not valid JSON (${(error as Error).message}): fix or remove it`)
  }

  if (!validate(data)) {
    throw new UsageError(`Config file ${path} is invalid: ${describeError(validate.errors?.[0])}`)
  }

  if (warn && process.platform !== 'win32') {
    const {mode} = await stat(path)
    if (mode & 0o077) {
      warn(`Config file ${path} is readable by other users: run chmod 600 ${path}`)
    }
  }

  return data
}

/** Writes the config file atomically, readable by its owner only (0600, in a 0700 directory). */
export async function writeConfig(path: string, config: ConfigFile): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, {mode: 0o700, recursive: true})
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify(config, null, 2) + '\n', {mode: 0o600})
  await chmod(temporary, 0o600)
  await rename(temporary, path)
}
