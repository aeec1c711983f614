// Builds the console (vite build) only when packages/web/dist is missing or older than its
// sources (the console's and the SDK's), so `npm start` on a fresh clone just works and a
// second start costs nothing.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = [
  join(web, 'src'),
  join(web, 'index.html'),
  join(web, 'vite.config.ts'),
  join(web, 'package.json'),
  join(web, '..', 'sdk', 'src'),
];

function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = statSync(join(web, 'dist', 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changed = Math.max(...sources.map(newest));
if (built >= changed && !process.argv.includes('--force')) process.exit(0);

console.error(built === 0 ? 'building the web console' : 'rebuilding the web console (sources changed)');
const vite = join(web, 'node_modules', '.bin', 'vite');
const local = statSync(vite, { throwIfNoEntry: false })
  ? vite
  : join(web, '..', '..', 'node_modules', '.bin', 'vite');
const result = spawnSync(local, ['build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
process.exit(result.status ?? 1);
