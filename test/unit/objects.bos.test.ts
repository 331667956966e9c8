/**
 * The object-store contract once more, through BOS's HTTP API: `BosHttpStore` (the CLI's way to the twin's objects)
 * against the twin's object endpoint (the download server with `BosService` over a filesystem store, dynalite for
 * bucket ownership and keys). Every promise of the port must survive the trip through BOS's wire and back: ordering,
 * paging, ranges, copies, atomic puts of failing streams (a streamed put of more than one part goes through a
 * multipart upload), and the errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BosHttpStore } from '../../shared/bos/client.js';
import { BosService } from '../../shared/bos/service.js';
import { AccessKeyService, ensureKeyFile, FileKeySealer } from '../../shared/keys/index.js';
import { startDownloadServer } from '../../scripts/download-server.js';
import { startServiceHarness } from '../support/services.js';
import { objectStoreContract } from './objects.contract.js';

objectStoreContract('BOS over HTTP, to the twin', async () => {
  const harness = await startServiceHarness({ name: 'bos-contract', buckets: ['qfdata'] });
  const keyDir = await mkdtemp(path.join(tmpdir(), 'qfdata-bos-keys-'));
  const keys = new AccessKeyService({ store: harness.store, sealer: FileKeySealer.fromFile(ensureKeyFile(path.join(keyDir, 'secrets.key'))) });
  const issued = await keys.issueForOperator({ account: 'root' });
  const { buckets } = harness.services();
  const server = await startDownloadServer({
    port: 0,
    objects: harness.objects,
    keys,
    store: harness.store,
    bos: { service: new BosService({ objects: harness.objects, buckets, platformBucket: 'qfdata' }) },
  });
  return {
    store: new BosHttpStore({ endpoint: server.url, accessKeyId: issued.record.accessKeyId, secretAccessKey: issued.secretAccessKey }),
    async cleanup() {
      await server.close();
      await harness.close();
      await rm(keyDir, { recursive: true, force: true });
    },
  };
});
