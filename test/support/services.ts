/**
 * The service tests' one harness: a fresh dynalite with the qfdata table, a temporary data directory with a
 * filesystem object store and the suite's buckets in it, the domain's services composed over them (the same wiring
 * as the functions: `composeServices`), optionally with crashes injected at every write, and the test buckets
 * granted to the tests' accounts as an operator grants them.
 *
 * ```ts
 * let h: ServiceHarness;
 * beforeAll(async () => { h = await startServiceHarness({ name: 'exports', buckets: ['qfdata', 'src', 'out'], now }); });
 * afterAll(() => h?.close());
 * // in a test: await h.grant('acct-x'); const { exports } = h.services({ faults: new Faults(3) });
 * ```
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { composeServices, DEFAULT_SERVICE_SETTINGS, type ServiceDeps, type ServiceSettings, type Services } from '../../shared/datasets/compose.js';
import { FsObjectStore } from '../../shared/objects/index.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { startTestDynamo, type TestDynamo } from './dynamo.js';
import { faultyDb, faultyObjects, type Faults } from './faults.js';

/**
 * Settings the service tests share. Tests that drive the services with an injected clock keep the lease heartbeat
 * (real time) out of the way, so the writes a crash test counts are exactly the worker's own.
 */
export const NO_HEARTBEAT = 24 * 3600 * 1000;

export interface ServiceHarnessOptions {
  /**
   * The buckets made in the object store at the start: the platform bucket (`settings.platformBucket`, `qfdata` by
   * default) and the test buckets, which {@link ServiceHarness.grant} grants.
   */
  buckets?: string[];
  /** Names the temporary data directory (`qfdata-<name>-…`), so a leftover one says which suite made it. */
  name?: string;
  /** The settings every `services()` call starts from (over `composeServices`' defaults, key by key). */
  settings?: Partial<ServiceSettings>;
  /** The clock every `services()` call gets unless it names its own; real time when absent. */
  now?: ServiceDeps['now'];
}

/**
 * What one `services()` call may change; every other dependency of `composeServices` (the queue, ...) passes
 * through as given, and is `composeServices`' default when absent (nothing is kicked, for the queue).
 *
 * - `store`, `objects`: used instead of the harness's (e.g. a proxy that counts, delays or fails calls); not with
 *   `faults`.
 * - `settings`: over the harness's, key by key (a shallow merge: a given `imports` or `exports` replaces the
 *   harness's whole).
 * - `now`: the clock for this composition, instead of the harness's.
 */
export interface ComposeOptions extends Partial<ServiceDeps> {
  /** Counts (and crashes) every DynamoDB write command and every object-store mutation: see `faults.ts`. */
  faults?: Faults;
}

export interface ServiceHarness {
  /** The dynalite handle: its endpoint, table name, store and raw document client. */
  dynamo: TestDynamo;
  /** The metadata store over dynalite (`dynamo.store`). */
  store: DynamoMetadataStore;
  /** The temporary data directory the object store keeps its buckets in (`<dataDir>/buckets/<bucket>`). */
  dataDir: string;
  objects: FsObjectStore;
  /** The buckets made at the start. */
  buckets: readonly string[];
  /** The domain's services, composed over the harness's store and object store (or faulty or replaced ones). */
  services(options?: ComposeOptions): Services;
  /**
   * Grants `buckets` (by default every bucket of the harness but the platform bucket) to `account` as an operator
   * would (`npm run buckets -- grant`): the accounts of the tests may then use them.
   */
  grant(account: string, ...buckets: string[]): Promise<void>;
  /** Stops dynalite and removes the data directory. */
  close(): Promise<void>;
}

export async function startServiceHarness(options: ServiceHarnessOptions = {}): Promise<ServiceHarness> {
  const { buckets = [], name = 'services', settings: base = {}, now: clock } = options;
  const dynamo = await startTestDynamo();
  let dataDir: string | undefined;
  try {
    dataDir = await mkdtemp(path.join(tmpdir(), `qfdata-${name}-`));
    const objects = new FsObjectStore({ dataDir });
    for (const bucket of buckets) await objects.createBucket(bucket);
    const platformBucket = base.platformBucket ?? DEFAULT_SERVICE_SETTINGS.platformBucket;
    const rootAccount = base.rootAccount ?? DEFAULT_SERVICE_SETTINGS.rootAccount;
    const dir = dataDir;

    const services = (compose: ComposeOptions = {}): Services => {
      const { faults, store: ownStore, objects: ownObjects, settings, now, ...rest } = compose;
      if (faults && (ownStore || ownObjects)) throw new Error("services(): faults wrap the harness's own store and objects, not replacements");
      const store = faults ? new DynamoMetadataStore({ tableName: dynamo.tableName, region: 'us-east-1', endpoint: dynamo.dynamo.endpoint }, faultyDb(dynamo.db, faults)) : (ownStore ?? dynamo.store);
      return composeServices({
        ...rest,
        store,
        objects: faults ? faultyObjects(objects, faults) : (ownObjects ?? objects),
        settings: { ...base, ...settings },
        now: now ?? clock,
      });
    };

    return {
      dynamo,
      store: dynamo.store,
      dataDir: dir,
      objects,
      buckets,
      services,
      async grant(account, ...named) {
        const granted = named.length > 0 ? named : buckets.filter((bucket) => bucket !== platformBucket);
        const { buckets: service } = services();
        for (const bucket of granted) await service.grant({ account: rootAccount }, bucket, account, { operator: true });
      },
      async close() {
        await dynamo.dynamo.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await dynamo.dynamo.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
