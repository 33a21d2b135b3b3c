// ES module entry: the same objects as `require('interaction-store')` (index.js).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('./index.js')

export const { InteractionStore, SiteSession, Clock, Finder, InteractionStoreError, ErrorCode, maskInteraction, maskUser } =
  binding
export default binding
