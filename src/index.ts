/**
 * mpx-mixpanel as a library: the streaming API of mpx-mixpanel-core (Mixpanel, streamEvents,
 * streamProfiles, the errors and record types), storing from code (Workspace: fetch, sync and
 * query tables, with the CLI's guarantees), and the sink contract that plugins implement.
 *
 *   const mp = new Mixpanel({credentials: {username, secret, projectId}})
 *   for await (const event of mp.streamEvents({from: '2024-01-01', to: '2024-01-31'})) { ... }
 */
export {
  type FetchEventsOptions,
  type FetchProfilesOptions,
  type FetchResult,
  type FetchTableOptions,
  type Row,
  type SqlOptions,
  type StoreOptions,
  type SyncEventsOptions,
  type SyncEventsResult,
  type SyncProfilesOptions,
  Workspace,
  type WorkspaceOptions,
} from './library/workspace.js'
export type * from './object-storage/types.js'
export type * from './sinks/hooks.js'
export type * from './sinks/sink.js'
export type {SyncPlan} from './sync/plan.js'
export * from 'mpx-mixpanel-core'
