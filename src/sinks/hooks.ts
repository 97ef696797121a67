import type {Hook, Interfaces} from '@oclif/core'

import type {Sink} from './sink.js'

/**
 * oclif's hooks with mpx's own: `sinks`, which every installed plugin may answer with the sinks it
 * brings. @oclif/core 5 declares `Hooks` as a type alias, which module augmentation cannot extend,
 * so mpx names the extended map and passes it to oclif's generics instead:
 * `config.runHook<'sinks', MpxHooks>('sinks', {})` resolves to `Sink[]` results, and a plugin types
 * its hook as `Hook<'sinks', MpxHooks>` (or `SinksHook`, the same thing).
 */
export interface MpxHooks extends Interfaces.Hooks {
  sinks: {
    /** mpx asks for nothing: the hook also receives `config` and `context`, as every oclif hook. */
    options: Record<string, never>
    return: Sink[]
  }
}

/**
 * A plugin's `sinks` hook: declared in its package.json as `oclif.hooks.sinks`, it answers with
 * the plugin's sinks. It should be cheap (mpx runs it before every fetch and for `mpx sinks`): load
 * heavy dependencies in `Sink.open`, not at the top of the module.
 *
 *   const hook: SinksHook = async () => [mySink()]
 *   export default hook
 */
export type SinksHook = Hook<'sinks', MpxHooks>
