// Seeds (or reuses) the benchmark dataset: node bench/seed.mjs <dataDir> [databaseUrl] [models] [versionsPerModel]
import { createQuiver, loadConfig, seed, systemClock, uuidIds } from '../packages/server/dist/index.js';

const [dataDir, databaseUrl, models = '100000', perModel = '10'] = process.argv.slice(2);
const env = {
  QUIVER_DATA_DIR: dataDir,
  QUIVER_LOG_LEVEL: 'silent',
  ...(databaseUrl && databaseUrl !== '-' ? { QUIVER_DATABASE_URL: databaseUrl } : {}),
};
const quiver = await createQuiver(loadConfig(env), { logger: false });
const db = quiver.store.db;
const have = Number(
  (
    await db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
  ).n,
);
const want = Number(models) * Number(perModel);
if (have >= want) {
  console.log(`dataset present: ${have} versions`);
} else {
  const started = Date.now();
  let last = 0;
  await seed(quiver.store, systemClock, uuidIds, {
    models: Number(models),
    versionsPerModel: Number(perModel),
    namespaces: 100,
    batchSize: 1000,
    onProgress: (p) => {
      if (Date.now() - last > 5000 || p.models === p.totalModels) {
        last = Date.now();
        const s = (Date.now() - started) / 1000;
        console.log(
          `seeded ${p.models}/${p.totalModels} models, ${p.versions} versions in ${s.toFixed(0)} s`,
        );
      }
    },
  });
  console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
// The deploy scenario leaves tens of thousands of deployments per run (bench-<pid>-<n>); every
// instance re-reads its whole deployment table every 30 s, so leftovers of earlier runs would tax
// every later measurement. They are bench debris: drop them with their jobs.
const purged = await db
  .deleteFrom('deployments')
  .where('deployment_id', 'like', 'bench-%')
  .executeTakeFirst();
await db.deleteFrom('jobs').where('payload', 'like', '%"deployment_id":"bench-%').execute();
if (Number(purged.numDeletedRows) > 0)
  console.log(`removed ${purged.numDeletedRows} deployments left by earlier runs of the deploy scenario`);
await quiver.close();
