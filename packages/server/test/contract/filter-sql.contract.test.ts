import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/adapters/sql/store.js';
import { QuiverError } from '../../src/domain/errors.js';
import { parseFilter } from '../../src/domain/filter.js';
import { VERSION_STATUSES, type VersionStatus } from '../../src/domain/lifecycle.js';
import type { Labels } from '../../src/domain/resources.js';
import { listQuery, MINUTE, newBulkModel, newBulkVersion, newNamespace, T0 } from '../support/builders.js';
import { type Backend, backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();
const HOUR = 60 * MINUTE;

/**
 * The same filters on both dialects, checked against the answer computed in JS from the seed.
 * Ids and label values mix case and non-ASCII so that prefix and range filters only agree when
 * both databases compare text by code point.
 */

// 40 model ids in the main namespace: near-misses around 'bert' (shorter, successor, other case).
const MODEL_IDS = [
  'bert',
  'bert-base',
  'bert-large',
  'bertz',
  'berta',
  'bers',
  'ber',
  'Bert-upper',
  'BERT-caps',
  'bert_tiny',
  'gpt-2',
  'gpt-neo',
  'gpt2-xl',
  'GPT-j',
  'resnet-50',
  'resnet-101',
  'resnet',
  'ResNet-18',
  'vit-b16',
  'vit-l14',
  'whisper',
  'whisper-large',
  'wav2vec',
  'clip',
  'clip-vit',
  'llama-7b',
  'llama-13b',
  'Llama-70b',
  'mistral',
  'mixtral',
  't5-small',
  't5-base',
  't5',
  'xlnet',
  'yolo-v8',
  'yolo',
  'zephyr',
  'z-model',
  '0-first',
  '9-last',
];

interface SeedModel {
  ns: 'main' | 'other';
  model_id: string;
  labels: Labels;
  description: string;
  latest_version: number;
  time: number;
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
const labelsOf = (entries: Record<string, string | undefined>): Labels =>
  Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Labels;

const MODELS: SeedModel[] = [
  ...MODEL_IDS.map(
    (model_id, i): SeedModel => ({
      ns: 'main',
      model_id,
      labels: labelsOf({
        team: pick(['vision', 'nlp', 'NLP', 'speech', undefined], i),
        tier: pick(['gold', 'silver', undefined], i),
        env: pick(['prod', 'prod-eu', 'Prod', 'staging', 'production', undefined], i),
        region: pick(['zürich', 'zug', 'zz', 'zu', undefined, 'zü', 'zzé'], i),
      }),
      description: pick(['Fine-tuned', 'fine-tuned', 'base', ''], i),
      latest_version: i === 39 ? 2_000_000_000 : i % 9,
      time: T0 + (i % 13) * HOUR,
    }),
  ),
  ...['bert-other', 'gpt-other', 'x'].map(
    (model_id, i): SeedModel => ({
      ns: 'other',
      model_id,
      labels: { team: 'vision' },
      description: '',
      latest_version: i,
      time: T0 + i * HOUR,
    }),
  ),
];

interface SeedVersion {
  version: number;
  status: VersionStatus;
  labels: Labels;
  created_by: string;
  source_uri: string;
  time: number;
}

const VERSIONS: SeedVersion[] = Array.from({ length: 16 }, (_, i) => {
  const v = i + 1;
  return {
    version: v,
    status: pick(VERSION_STATUSES, v),
    labels: labelsOf({ stage: pick(['dev', 'prod', 'Prod', undefined, 'production'], v) }),
    created_by: pick(['alice', 'alicia', 'Alice', 'bob'], v),
    source_uri: v % 3 === 0 ? `gs://b/${v}` : `s3://b/${v}`,
    time: T0 + (v % 7) * MINUTE,
  };
});

const main = MODELS.filter((m) => m.ns === 'main');
const has = (l: Labels, k: string) => Object.hasOwn(l, k);
const at = (h: number) => T0 + h * HOUR;

const MODEL_CASES: [string, (m: SeedModel) => boolean][] = [
  ['labels.team=vision', (m) => m.labels.team === 'vision'],
  ['labels.team:nlp', (m) => m.labels.team === 'nlp'],
  ['labels.team!=vision', (m) => m.labels.team !== 'vision'],
  ['labels.tier:*', (m) => has(m.labels, 'tier')],
  ['NOT labels.tier:*', (m) => !has(m.labels, 'tier')],
  ['labels.env:"prod*"', (m) => m.labels.env?.startsWith('prod') ?? false],
  ['labels.region:"zü*"', (m) => m.labels.region?.startsWith('zü') ?? false],
  ['labels.region>"zu"', (m) => has(m.labels, 'region') && m.labels.region! > 'zu'],
  ['labels.region<="zug"', (m) => has(m.labels, 'region') && m.labels.region! <= 'zug'],
  ['name:"bert*"', (m) => m.model_id.startsWith('bert')],
  ['model_id:"Bert*"', (m) => m.model_id.startsWith('Bert')],
  ['name:"*"', () => true],
  ['name="namespaces/main/models/bert-large"', (m) => m.model_id === 'bert-large'],
  ['model_id>"bert" model_id<"gpt"', (m) => m.model_id > 'bert' && m.model_id < 'gpt'],
  ['description:"Fine*"', (m) => m.description.startsWith('Fine')],
  ['description=""', (m) => m.description === ''],
  ['latest_version>=3 AND latest_version<6', (m) => m.latest_version >= 3 && m.latest_version < 6],
  ['latest_version=0', (m) => m.latest_version === 0],
  ['latest_version>1000000', (m) => m.latest_version > 1_000_000],
  ['latest_version!=2', (m) => m.latest_version !== 2],
  [
    'create_time>="2024-01-01T05:00:00Z" create_time<"2024-01-01T09:00:00Z"',
    (m) => m.time >= at(5) && m.time < at(9),
  ],
  ['create_time>"2024-01-01T03:00:00+02:00"', (m) => m.time > at(1)],
  ['create_time<="2024-01-01T02:00:00.000Z"', (m) => m.time <= at(2)],
  ['update_time="2024-01-01T04:00:00Z"', (m) => m.time === at(4)],
  ['labels.team=vision OR labels.team=speech', (m) => ['vision', 'speech'].includes(m.labels.team ?? '')],
  [
    '(labels.team=vision OR labels.tier=gold) AND NOT labels.env:"prod*"',
    (m) =>
      (m.labels.team === 'vision' || m.labels.tier === 'gold') &&
      !(m.labels.env?.startsWith('prod') ?? false),
  ],
  ['-labels.team=nlp', (m) => m.labels.team !== 'nlp'],
  [
    'labels.tier=gold labels.team=nlp OR labels.team=NLP',
    (m) => m.labels.tier === 'gold' && (m.labels.team === 'nlp' || m.labels.team === 'NLP'),
  ],
  [
    'NOT (latest_version<4 OR name:"t5*") AND labels.region:*',
    (m) => !(m.latest_version < 4 || m.model_id.startsWith('t5')) && has(m.labels, 'region'),
  ],
];

const VERSION_CASES: [string, (v: SeedVersion) => boolean][] = [
  ['status=approved', (v) => v.status === 'approved'],
  ['status!=archived', (v) => v.status !== 'archived'],
  ['status:registered OR status:validated', (v) => v.status === 'registered' || v.status === 'validated'],
  ['version>=5 AND version<=10', (v) => v.version >= 5 && v.version <= 10],
  ['NOT version=3', (v) => v.version !== 3],
  ['created_by:"ali*"', (v) => v.created_by.startsWith('ali')],
  ['created_by="Alice"', (v) => v.created_by === 'Alice'],
  ['source_uri:"s3://*"', (v) => v.source_uri.startsWith('s3://')],
  ['labels.stage=prod', (v) => v.labels.stage === 'prod'],
  ['labels.stage!=prod', (v) => v.labels.stage !== 'prod'],
  ['labels.stage:"prod*"', (v) => v.labels.stage?.startsWith('prod') ?? false],
  ['-labels.stage:*', (v) => !has(v.labels, 'stage')],
  ['create_time<="2024-01-01T00:03:00Z"', (v) => v.time <= T0 + 3 * MINUTE],
  [
    '(status=approved OR status=deprecated) labels.stage:"pro*"',
    (v) =>
      (v.status === 'approved' || v.status === 'deprecated') && (v.labels.stage?.startsWith('pro') ?? false),
  ],
];

/** Integer values that fit a JS safe integer (the filter grammar allows 16 digits) but not a 32-bit column. */
const WIDE_MODEL_CASES: [string, (m: SeedModel) => boolean][] = [
  ['latest_version<10000000000', () => true],
  ['latest_version>=9007199254740991', () => false],
];
const WIDE_VERSION_CASES: [string, (v: SeedVersion) => boolean][] = [['version>3000000000', () => false]];

const ids = (models: SeedModel[]) => models.map((m) => m.model_id).sort();

/** What each backend answered, by filter, for the cross-dialect check at the end. */
const answers = new Map<Backend, Map<string, string>>();

describe.each(BACKENDS)('filters compiled to SQL (%s)', (backend) => {
  let store: SqlStore;
  let close: () => Promise<void>;
  const pks = { main: 0, other: 0 };
  let versionedPk = 0;
  const seen = new Map<string, string>();
  answers.set(backend, seen);

  beforeAll(async () => {
    ({ store, close } = await testStore(backend));
    await store.write(async (r) => {
      for (const ns of ['main', 'other'] as const) {
        await r.namespaces.create(newNamespace({ namespace_id: ns }));
        pks[ns] = (await r.namespaces.pkOf(ns))!;
      }
      await r.bulk.insertModels(
        MODELS.map((m) =>
          newBulkModel(pks[m.ns], {
            model_id: m.model_id,
            labels: m.labels,
            description: m.description,
            latest_version: m.latest_version,
            time: m.time,
          }),
        ),
      );
      versionedPk = (await r.models.key('other', 'x'))!.pk;
      await r.bulk.insertVersions(VERSIONS.map((v) => newBulkVersion(versionedPk, v.version, v)));
    });
  });
  afterAll(async () => {
    await close?.();
  });

  const listModels = async (namespacePk: number | null, filter: string, field = 'name') => {
    const listed = await store.read((r) =>
      r.models.list(namespacePk, listQuery({ filter: parseFilter(filter), orderBy: { field, desc: false } })),
    );
    return listed.map((l) => l.item.model_id);
  };
  const listVersions = async (filter: string) => {
    const listed = await store.read((r) =>
      r.versions.list(
        versionedPk,
        listQuery({ filter: parseFilter(filter), orderBy: { field: 'version', desc: false } }),
      ),
    );
    return listed.map((l) => l.item.version);
  };
  /** Records the answer (or the error) so the last test can compare the dialects. */
  const record = async <T>(key: string, run: () => Promise<T>): Promise<T> => {
    try {
      const got = await run();
      seen.set(key, JSON.stringify(got));
      return got;
    } catch (err) {
      seen.set(key, `error: ${(err as Error).message}`);
      throw err;
    }
  };

  it('seeded 40 models in the main namespace', async () => {
    expect(main).toHaveLength(40);
    expect(await listModels(pks.main, 'name:"*"')).toHaveLength(40);
  });

  it.each(MODEL_CASES)('models: %s', async (filter, where) => {
    const got = await record(`models ${filter}`, () => listModels(pks.main, filter));
    expect(got).toEqual(ids(main.filter(where)));
  });

  it.each(MODEL_CASES.slice(0, 6))('models in every namespace: %s', async (filter, where) => {
    const got = await record(`all models ${filter}`, () => listModels(null, filter));
    expect(got).toEqual(ids(MODELS.filter(where)));
  });

  it('orders filtered models by create time, ties by primary key', async () => {
    const filter = 'labels.team=vision OR labels.tier=gold';
    const got = await record(`models by create_time ${filter}`, () =>
      listModels(pks.main, filter, 'create_time'),
    );
    const expected = main
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => m.labels.team === 'vision' || m.labels.tier === 'gold')
      .sort((a, b) => a.m.time - b.m.time || a.i - b.i)
      .map(({ m }) => m.model_id);
    expect(got).toEqual(expected);
  });

  it.each(VERSION_CASES)('versions: %s', async (filter, where) => {
    const got = await record(`versions ${filter}`, () => listVersions(filter));
    expect(got).toEqual(VERSIONS.filter(where).map((v) => v.version));
  });

  // The grammar accepts any safe integer: the answer is either right or a clean INVALID_FILTER
  // (the same on every dialect, checked below), never a driver error.
  const orInvalid = <T>(p: Promise<T>) =>
    p.catch((err: unknown) => {
      if (err instanceof QuiverError && err.reason === 'INVALID_FILTER') return 'INVALID_FILTER' as const;
      throw err;
    });

  it.each(WIDE_MODEL_CASES)('models, integer wider than 32 bits: %s', async (filter, where) => {
    const got = await record(`models ${filter}`, () => orInvalid(listModels(pks.main, filter)));
    if (got !== 'INVALID_FILTER') expect(got).toEqual(ids(main.filter(where)));
  });

  it.each(WIDE_VERSION_CASES)('versions, integer wider than 32 bits: %s', async (filter, where) => {
    const got = await record(`versions ${filter}`, () => orInvalid(listVersions(filter)));
    if (got !== 'INVALID_FILTER') expect(got).toEqual(VERSIONS.filter(where).map((v) => v.version));
  });
});

describe.runIf(BACKENDS.length > 1)('filters compiled to SQL (every dialect)', () => {
  it('gives the same answer on every dialect', () => {
    const [first, ...rest] = BACKENDS.map((b) => Object.fromEntries(answers.get(b) ?? new Map()));
    expect(Object.keys(first!).length).toBeGreaterThan(40);
    for (const other of rest) expect(other).toEqual(first);
  });
});
