// Applies Quiver's V8 flags as `createQuiver` does (QUIVER_V8_PRETENURING from the environment),
// then allocates objects that all outlive young-generation collections: the pattern V8's
// allocation-site pretenuring acts on. Run with `node --import tsx --trace-pretenuring-statistics`.
import { loadConfig } from '../../src/config/config.js';
import { applyV8Flags } from '../../src/v8-flags.js';

applyV8Flags(loadConfig(process.env));
const make = (i: number) => ({ i, text: `item-${i}`, pair: [i, i + 1] });
const kept: unknown[] = [];
for (let i = 0; i < 400_000; i++) kept.push(make(i));
process.stdout.write(`kept ${kept.length}\n`);
