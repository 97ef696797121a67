import type {ResolvedAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'

import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {configPath, readConfig} from 'mpx-mixpanel-core/internal/config/config-file.js'
import {resolveAccount} from 'mpx-mixpanel-core/internal/config/resolve.js'
import {ExitCode, MpxError} from 'mpx-mixpanel-core/internal/errors.js'
import {regions} from 'mpx-mixpanel-core/internal/mixpanel/regions.js'

import {cliMessage} from './cli-hints.js'
import {OutputClosedError} from './output/line-writer.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Flags every command that talks to Mixpanel shares, and the one place errors become exit codes. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    account: Flags.string({
      description: 'Use this account from the config file (see auth:list)',
      helpGroup: 'ACCOUNT',
    }),
    'project-id': Flags.string({
      description: 'Mixpanel project id (overrides MP_PROJECT_ID and the account)',
      helpGroup: 'ACCOUNT',
    }),
    region: Flags.option({
      description: "Data residency region [default: MP_REGION or the account's region, else us]",
      helpGroup: 'ACCOUNT',
      options: regions,
    })(),
  }
  protected args!: CommandArgs<T>
  protected flags!: CommandFlags<T>

  /** The config file: $MPX_CONFIG, else config.json in mpx's config directory. */
  protected get configFile(): string {
    return configPath(this.config.configDir)
  }

  async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof OutputClosedError) {
      // `| head`: the reader left, which is not a failure. Exit now: oclif's final flush would
      // wait forever for a 'drain' that a closed stdout never emits.
      // eslint-disable-next-line n/no-process-exit, unicorn/no-process-exit
      process.exit(ExitCode.Ok)
    }

    if (error instanceof MpxError) this.fail(cliMessage(error), error.exitCode)
    if (error.name === 'AbortError') this.fail('Interrupted', ExitCode.Interrupted)
    const parseFailure = error instanceof Errors.CLIError && 'parse' in error
    // A flag whose value failed to parse arrives as a plain error tagged with the usage exit code.
    const flagFailure = (error as {oclif?: {exit?: number}}).oclif?.exit === ExitCode.Usage
    if (parseFailure || flagFailure) this.fail(oneLineParseError(error, this.id, this.ctor.args), ExitCode.Usage)
    return super.catch(error)
  }

  /** One line on stderr (oclif's own error output wraps long messages), then the exit code. */
  protected fail(message: string, exitCode: number): never {
    process.stderr.write(`Error: ${message}\n`)
    this.exit(exitCode)
  }

  async init(): Promise<void> {
    // What mpx writes holds users' personal data (databases, their data directory, -o files, a
    // plugin's Parquet files): owner-only, like the config file, whatever the shell's umask.
    // eslint-disable-next-line no-bitwise -- permission bits
    process.umask(process.umask() | 0o077)
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  /**
   * Credentials, region and timezone, resolved from flags, then environment, then the config file.
   * `timezone`: the --timezone flag of the commands that have one.
   */
  protected async resolveAccount(timezone?: string): Promise<ResolvedAccount> {
    const config = await readConfig(this.configFile, (message) => this.warn(message))
    return resolveAccount(config, {
      account: this.flags.account,
      projectId: this.flags['project-id'],
      region: this.flags.region,
      timezone,
    })
  }

  /** One line on stderr: oclif's own warnings wrap to the terminal and continue lines with ` ›`. */
  warn(input: Error | string): Error | string {
    process.stderr.write(`Warning: ${typeof input === 'string' ? input : input.message}\n`)
    return input
  }
}

/** oclif's parse errors span many lines (with the whole usage): keep the gist on one line. */
function oneLineParseError(error: Error, id: string | undefined, argDefinitions: Command.Class['args'] = {}): string {
  const lines = error.message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^(See more help|Note:|Alternatively)/.test(line))
  const [headline = error.message, detail] = lines
  // Missing arguments come as their definitions (named here); unexpected ones as the strings given.
  const given: unknown[] = 'args' in error && Array.isArray(error.args) ? error.args : []
  const unexpected = given.filter((arg) => typeof arg === 'string')
  const args = given.flatMap((arg) =>
    typeof (arg as {name?: unknown}).name === 'string' ? [(arg as {name: string}).name.toUpperCase()] : [],
  )
  let what = headline
  if (unexpected.length > 0) {
    const s = unexpected.length === 1 ? '' : 's'
    const takes = Object.entries(argDefinitions).map(([name, arg]) =>
      arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`,
    )
    const expected = takes.length > 0 ? `takes ${takes.join(' ')}` : 'takes no arguments'
    return `Unexpected argument${s} ${unexpected.map((arg) => JSON.stringify(arg)).join(', ')}: mpx ${id} ${expected}. See: mpx ${id} --help`
  }

  const flag = /^Parsing (--\S+)$/.exec(headline)
  if (flag && detail) what = `${flag[1]}: ${detail}`
  else if (args.length > 0) what = `${headline.replace(/:$/, '')}: ${args.join(', ')}`
  // e.g. "The following error occurred:" followed by the actual reason on the next line.
  else if (headline.endsWith(':') && detail)
    what = /^The following errors? occurred:$/.test(headline) ? detail : `${headline} ${detail}`
  return `${what.replace(/\.$/, '')}. See: mpx ${id ?? ''} --help`.replace('  ', ' ')
}
