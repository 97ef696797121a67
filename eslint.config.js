import oclif from 'eslint-config-oclif'
import prettier from 'eslint-config-prettier'

export default [
  {ignores: ['dist/', 'node_modules/', 'bench/results/', 'plugins/*/dist/', 'plugins/*/node_modules/']},
  ...oclif,
  prettier,
]
