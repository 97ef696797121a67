import type {SinksResult} from '../sink-registry/catalog.js'

import {accountFlagsNotUsed} from '../auth-flags.js'
import {BaseCommand} from '../base-command.js'

export default class Sinks extends BaseCommand<typeof Sinks> {
  // Listing sinks needs no account: the inherited account flags are accepted but hidden.
  static baseFlags = accountFlagsNotUsed
  static description = `List the sinks fetches can write to, with the plugin that brings each and its options.

Pick one with --sink NAME on fetch:events and fetch:profiles, and set its options with --sink-option KEY=VALUE (repeatable). Plugins add sinks: mpx plugins:install PACKAGE (from npm), mpx plugins:install file:PATH (a local directory or .tgz), or mpx plugins:link DIR (a plugin you are writing).`
  static enableJsonFlag = true
  static examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Sinks and their options'},
    {
      command: '<%= config.bin %> <%= command.id %> --json | jq -r ".sinks[].name"',
      description: 'Machine-readable',
    },
  ]

  async run(): Promise<SinksResult> {
    const {sinkCatalog, sinkCatalogText} = await import('../sink-registry/catalog.js')
    const {result, warnings} = await sinkCatalog(this.config)
    for (const warning of warnings) this.logToStderr(`Warning: ${warning}`)
    if (this.jsonEnabled()) return result
    this.log(sinkCatalogText(result.sinks, process.stdout.isTTY ? process.stdout.columns : undefined))
    return result
  }
}
