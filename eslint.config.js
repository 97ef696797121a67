import {includeIgnoreFile} from '@eslint/compat'
import oclif from 'eslint-config-oclif'
import prettier from 'eslint-config-prettier'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const gitignorePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.gitignore')

export default [
  includeIgnoreFile(gitignorePath),
  {ignores: ['plugins/*/dist/', 'plugins/*/node_modules/']},
  ...oclif,
  prettier,
  {
    rules: {
      // Mixpanel's wire format and mpx's record fields are snake_case (from_date, distinct_id).
      camelcase: 'off',
      // Node's Buffer is the natural type for stream chunks.
      'n/prefer-global/buffer': 'off',
      // Tests and sources loop over awaited steps on purpose (ordered streams, sequential retries).
      'no-await-in-loop': 'off',
      // Closures over per-attempt state read better next to that state.
      'unicorn/consistent-function-scoping': 'off',
    },
  },
]
