import type {Region} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'

import {
  type AccountEntry,
  type AccountType,
  checkAccountEntry,
  type ConfigFile,
  type ConfigProblem,
  isValidAccountName,
  readConfig,
  writeConfig,
} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {NotFoundError, UsageError} from 'mpx-mixpanel-core/internal/errors.js'
import {checkTimezone} from 'mpx-mixpanel-core/internal/records/wall-clock.js'

/** An account as `auth:add` describes it; the secret comes separately (stdin or prompt). */
export type AccountDraft = {
  readonly name: string
  readonly projectId?: string
  readonly region?: string
  /** The project's timezone (IANA name), for a legacy project. */
  readonly timezone?: string
  readonly type: AccountType
  readonly username?: string
}

export type AddAccountOptions = {
  /** Replace an account of the same name. */
  readonly force?: boolean
  /** Make it the default (the first account is the default anyway). */
  readonly makeDefault?: boolean
}

export type AddAccountResult = {
  readonly isDefault: boolean
  readonly replaced: boolean
}

/** One account as `auth:list` shows it: the secret masked. */
export type AccountSummary = {
  readonly isDefault: boolean
  readonly name: string
  readonly projectId?: string
  readonly region: Region
  /** Masked with maskSecret: never the secret itself. */
  readonly secret: string
  /** The project's timezone: UTC unless the account says otherwise. */
  readonly timezone: string
  readonly type: AccountType
  readonly username?: string
}

const flagOfField: Record<string, string> = {
  projectId: '--project-id',
  region: '--region',
  secret: 'The secret',
  timezone: '--timezone',
  type: 'The account type',
  username: '--username',
}

function hasAccount(config: ConfigFile, name: string): boolean {
  return Object.hasOwn(config.accounts, name)
}

/** A schema complaint about a new account, in terms of auth:add's flags. */
function draftError(problems: readonly ConfigProblem[]): UsageError {
  const missing = problems.filter((problem) => problem.keyword === 'required').map((problem) => problem.field)
  if (missing.length > 0) {
    const flags = missing.map((field) => flagOfField[field] ?? field).join(' and ')
    return new UsageError(`A service account needs ${flags} (or pass --api-secret for a project API secret)`)
  }

  const [problem] = problems
  return new UsageError(`${flagOfField[problem.field] ?? problem.field} ${problem.message}`)
}

function entryOf(draft: AccountDraft, secret: string): AccountEntry {
  const fields: Record<string, unknown> = {secret, type: draft.type}
  if (draft.username !== undefined) fields.username = draft.username
  if (draft.projectId !== undefined) fields.projectId = draft.projectId
  if (draft.region !== undefined) fields.region = draft.region
  if (draft.timezone !== undefined) fields.timezone = checkTimezone(draft.timezone, '--timezone')
  const checked = checkAccountEntry(fields)
  if ('problems' in checked) throw draftError(checked.problems)
  return checked.entry
}

/**
 * Checks everything about a new account but its secret, so that a mistake is reported before the
 * user is asked for the secret: the name, the flags (with the config file's schema), and that the
 * name is free (unless `force`).
 */
export async function checkAccountDraft(
  path: string,
  draft: AccountDraft,
  options: AddAccountOptions = {},
): Promise<void> {
  if (!isValidAccountName(draft.name)) {
    throw new UsageError(
      `"${draft.name}" is not a valid account name: use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`,
    )
  }

  if (draft.type === 'api-secret' && draft.username !== undefined) {
    throw new UsageError(
      '--username is for service accounts: a project API secret has none (drop --api-secret or --username)',
    )
  }

  // A stand-in secret: this checks the other fields; the real secret is checked when it comes.
  entryOf(draft, 'not-yet-read')
  const config = await readConfig(path)
  if (hasAccount(config, draft.name) && !options.force) {
    throw new UsageError(`Account "${draft.name}" already exists: pass --force to replace it, or pick another name`)
  }
}

/** Adds (or with `force`, replaces) an account in the config file. */
export async function addAccount(
  path: string,
  draft: AccountDraft,
  secret: string,
  options: AddAccountOptions = {},
): Promise<AddAccountResult> {
  await checkAccountDraft(path, draft, options)
  const entry = entryOf(draft, secret)

  const config = await readConfig(path)
  const isReplaced = hasAccount(config, draft.name)
  const isDefaultExists = config.defaultAccount !== undefined && hasAccount(config, config.defaultAccount)
  const isDefault = Boolean(options.makeDefault) || !isDefaultExists || config.defaultAccount === draft.name
  const accounts = {...config.accounts, [draft.name]: entry}
  await writeConfig(path, {...config, accounts, defaultAccount: isDefault ? draft.name : config.defaultAccount})
  return {isDefault, replaced: isReplaced}
}

/** Every account, sorted by name, secrets masked. */
export async function listAccounts(
  path: string,
  warn?: (message: string) => void,
): Promise<{accounts: AccountSummary[]; defaultAccount?: string}> {
  const config = await readConfig(path, warn)
  const accounts = Object.entries(config.accounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]): AccountSummary => ({
      isDefault: name === config.defaultAccount,
      name,
      projectId: entry.projectId,
      region: entry.region ?? 'us',
      secret: maskSecret(entry.secret),
      timezone: entry.timezone ?? 'UTC',
      type: entry.type,
      username: entry.username,
    }))
  return {accounts, defaultAccount: config.defaultAccount}
}

function requireAccount(config: ConfigFile, name: string): void {
  if (hasAccount(config, name)) {
    return
  }

  const known = Object.keys(config.accounts).sort()
  const hint = known.length > 0 ? `accounts: ${known.join(', ')}` : 'there are none yet: add one with mpx auth:add NAME'
  throw new NotFoundError(`No account named "${name}" (${hint})`)
}

/** Makes an existing account the default. */
export async function useAccount(path: string, name: string): Promise<void> {
  const config = await readConfig(path)
  requireAccount(config, name)
  await writeConfig(path, {...config, defaultAccount: name})
}

/** Removes an account; when it was the default, there is no default any more. */
export async function removeAccount(path: string, name: string): Promise<{wasDefault: boolean}> {
  const config = await readConfig(path)
  requireAccount(config, name)
  const accounts = Object.fromEntries(Object.entries(config.accounts).filter(([key]) => key !== name))
  const wasDefault = config.defaultAccount === name
  const next: ConfigFile = {accounts}
  if (config.defaultAccount !== undefined && !wasDefault) next.defaultAccount = config.defaultAccount
  await writeConfig(path, next)
  return {wasDefault}
}

/** Shows enough of a secret to recognise it, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '********'
  return `${secret.slice(0, 2)}${'*'.repeat(8)}${secret.slice(-2)}`
}
