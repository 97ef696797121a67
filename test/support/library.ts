import {Mixpanel} from 'mpx-mixpanel-core'

import type {FakeMixpanel} from './fake-mixpanel.js'

/** The service account the library tests sign in with. */
export const LIBRARY_ACCOUNT = {secret: 'lib-secret', username: 'lib'}

/** The library's entry point for project 7 on a fake Mixpanel, signed in as LIBRARY_ACCOUNT, retrying fast. */
export function libraryFor(server: FakeMixpanel): Mixpanel {
  return new Mixpanel({
    apiUrl: server.url,
    credentials: {projectId: 7, ...LIBRARY_ACCOUNT},
    retry: {minDelayMs: 1},
  })
}
