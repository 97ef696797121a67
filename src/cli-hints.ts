import {type Remedy, remedyOf} from 'mpx-mixpanel-core/internal/mixpanel/remedy.js'

/** The API layer's remedies in the CLI's words: the flags and commands a CLI user can reach for. */
const cliWords: {readonly [R in Remedy]: string} = {
  'check-credentials': 'check them with mpx auth:test, and the project id and region',
  'narrower-query': 'run again, with a narrower --where or --cohort if it persists',
  'smaller-chunks': 'try a smaller --chunk-days',
  'try-later-or-smaller-chunks': 'try again later or use a smaller --chunk-days',
}

/** An error's message as the CLI reports it: a remedy the API layer named, in the CLI's words. */
export function cliMessage(error: Error): string {
  const remedied = remedyOf(error)
  return remedied ? `${remedied.problem}: ${cliWords[remedied.remedy]}` : error.message
}
