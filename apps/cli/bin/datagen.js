#!/usr/bin/env node
// The `datagen` command (npx datagen). npm links a workspace's bin when it
// installs (npm ci), before anything is built, so the bin is this committed
// file, which loads the build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const main = path.join(__dirname, '..', 'dist', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`datagen: not built yet (${main} is missing): run npm run build first, at the root of the repository.\n`);
  process.exit(1);
}
require(main).main();
