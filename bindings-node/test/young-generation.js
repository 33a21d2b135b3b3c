'use strict'
// V8's adaptive young generation, grown to its (default) bound on demand rather than at some
// point during a measurement: objects that survive one scavenge and die before the next,
// until the new space has not grown for 20 rounds. Shared by test/memory.test.js and
// scripts/memory-profile.js.
const v8 = require('node:v8')

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size

function growYoungGeneration() {
  let size = newSpace()
  for (let round = 0, still = 0; still < 20 && round < 500; round++) {
    let keep = []
    for (let i = 0; i < 200000; i++) {
      keep.push({ a: i, b: i })
      if (keep.length >= 50000) keep = []
    }
    const now = newSpace()
    still = now === size ? still + 1 : 0
    size = now
  }
  return size
}

module.exports = { newSpace, growYoungGeneration }
