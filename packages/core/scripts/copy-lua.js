// tsc compiles the TypeScript; the Lua scripts it does not see are copied
// beside the compiled files that load them (src/**/lua/*.lua -> dist/**/lua/).
const fs = require('node:fs');
const path = require('node:path');

const src = path.join(__dirname, '..', 'src');
const dist = path.join(__dirname, '..', 'dist');
function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const full = path.join(dir, entry.name);
    if (entry.name === 'lua') fs.cpSync(full, path.join(dist, path.relative(src, full)), { recursive: true });
    else walk(full);
  }
}
walk(src);
