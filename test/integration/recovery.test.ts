/**
 * Recovery in about a minute, not a lease (issue 10 point 6), through `npm start` as a user runs it: an import and
 * then an export are killed half-way with the whole stack (SIGKILL of its process group), the stack is started again
 * on the same data and ports, and `npm run jobs` (the scheduler, invoked by hand) picks each task up as soon as the
 * dead worker's lease runs out: well within a minute with the default 30-second lease (it took 2–3 minutes for an
 * import and 15 for an export before leases were short and kept alive by a heartbeat). Each finishes with exactly
 * the samples it should hold.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, ROOT } from '../../scripts/local.js';
import { DynamoMetadataStore } from '../../shared/store/index.js';
import { stackPorts, waitForPortsFree, type StackPorts } from '../support/ports.js';
import { launch, processTree, waitUntilGone, type Launcher } from '../support/processes.js';
import { styledRequest } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const LINES = 1_500_000;
/** The default lease (30 s), the scheduler's own period and a loaded machine's slack. */
const RECOVERED_WITHIN_MS = 60_000;
const v2 = (action: string) => `/v2/dataset?Action=${action}`;

describe.runIf(process.platform === 'linux')('Integration: a killed worker is noticed within a minute', () => {
  let dataDir: string;
  let buildDir: string;
  let ports: StackPorts;
  let launcher: Launcher | undefined;
  let url = '';
  const creds = () => ({ url, accessKeyId: LOCAL_ACCESS_KEY, secretAccessKey: LOCAL_SECRET_KEY });
  const call = (action: string, body: unknown) => styledRequest(creds(), 'js', v2(action), body);
  const store = () => new DynamoMetadataStore({ tableName: 'qfdata', region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.dynamoPort}` });
  const runJobs = () => fetch(`http://127.0.0.1:${ports.lambdaPort}/2015-03-31/functions/qfdata-local-scheduler/invocations`, { method: 'POST', body: '{}' }).then((r) => r.text());

  async function start() {
    launcher = launch('run', { ports, dataDir, buildDir });
    url = await launcher.ready();
  }

  /** SIGKILL of the stack's process group, then waits until every process is gone and every port is free. */
  async function kill() {
    const pids = processTree(launcher!.pid).map((p) => p.pid);
    process.kill(-launcher!.pid, 'SIGKILL');
    await waitUntilGone(pids);
    await waitForPortsFree(Object.values(ports));
  }

  /** Runs the scheduler by hand every 2 s until `done` holds; returns how long that took. */
  async function recover(done: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    await waitFor(async () => (await runJobs(), await done()), { what: 'the killed task to be resumed and finished', timeoutMs: 3 * RECOVERED_WITHIN_MS, intervalMs: 2000 });
    return Date.now() - started;
  }

  beforeAll(async () => {
    ports = await stackPorts();
    dataDir = await mkdtemp(path.join(tmpdir(), 'qfdata-recovery-'));
    buildDir = `.esbuild/test-${path.basename(dataDir)}`;
    await mkdir(path.join(dataDir, 'buckets', 'corpus'), { recursive: true });
    const lines = Array.from({ length: LINES }, (_, i) => `[{"prompt":"question ${i}","response":[["answer ${i}"]]}]`);
    await writeFile(path.join(dataDir, 'buckets', 'corpus', 'big.jsonl'), lines.join('\n') + '\n');
    await start();
  }, 180_000);
  afterAll(async () => {
    if (launcher && launcher.child.exitCode === null) process.kill(-launcher.pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    await rm(path.join(ROOT, buildDir), { recursive: true, force: true });
  });

  it('resumes a killed import, then a killed export, within a minute, each with exactly its samples', async () => {
    // Prepare: an import killed while its worker holds the lease
    const created = (await call('CreateDataset', { datasetName: 'recovery', dataFormat: 'PromptResponse', storageType: 'sysStorage' })).body.result as { versionId: string };
    const importTaskId = (await call('CreateImportTask', { versionId: created.versionId, files: ['bos:/corpus/big.jsonl'] })).body.result as string;
    await waitFor(async () => (await store().getImportTask('root', importTaskId))?.status === 'Running', { what: 'the import to be claimed', intervalMs: 20 });
    await kill();
    // Act
    await start();
    const importTook = await recover(async () => (await store().getImportTask('root', importTaskId))?.status === 'Finished');
    // Assess
    expect(importTook).toBeLessThan(RECOVERED_WITHIN_MS);
    const imported = (await call('DescribeImportTask', { taskId: importTaskId })).body.result as Record<string, unknown>;
    expect(imported).toMatchObject({ importStatus: 'ImportFinished', sampleCount: LINES });

    // Prepare: an export killed while its runner holds the lease
    const exportTaskId = (await call('CreateExportTask', { versionId: created.versionId, storageType: 'sysStorage' })).body.result as string;
    await waitFor(async () => (await store().getExportTask('root', exportTaskId))?.status === 'Running', { what: 'the export to be claimed', intervalMs: 20 });
    await kill();
    // Act
    await start();
    const exportTook = await recover(async () => (await store().getExportTask('root', exportTaskId))?.status === 'Finished');
    // Assess
    expect(exportTook).toBeLessThan(RECOVERED_WITHIN_MS);
    const exported = (await call('DescribeExportTask', { taskId: exportTaskId })).body.result as Record<string, unknown>;
    expect(exported).toMatchObject({ exportStatus: 'ExportFinished', sampleCount: LINES });
    expect((await store().getExportTask('root', exportTaskId))?.fence).toBeGreaterThanOrEqual(2);
  }, 600_000);
});
