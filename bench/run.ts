// `npm run bench -- <name>`: runs bench/<name>/index.js, which prints its one JSON line.
import * as fs from 'node:fs';
import * as path from 'node:path';

const name = process.argv[2];
const available = fs.readdirSync(__dirname, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(2);
}
require(path.join(__dirname, name, 'index.js'));
