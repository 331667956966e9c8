/**
 * `qfdata versions list|create|show|publish|delete`: the versions (ds-…) of a dataset, through the V2 version
 * actions. `list` follows every page.
 */
import type { Command } from 'commander';
import type { QfdataClient } from '../../shared/client/index.js';
import { client, formatRecord, formatTable, print, type Io } from './shared.js';

type VersionRow = Awaited<ReturnType<QfdataClient['v2']['describeDatasetVersions']>>['versions'][number];

/** Every version of the dataset, page after page (100 a page). */
async function listVersions(qf: QfdataClient, datasetId: string): Promise<VersionRow[]> {
  const all: VersionRow[] = [];
  let marker = '';
  for (;;) {
    const page = await qf.v2.describeDatasetVersions({ datasetId, marker, maxKeys: 100 });
    all.push(...page.versions);
    if (!page.pageInfo.isTruncated || !page.pageInfo.nextMarker) break;
    marker = page.pageInfo.nextMarker;
  }
  return all;
}

/** Registers `versions` and its subcommands on `program`. */
export function registerVersions(program: Command, io: Io): void {
  const versions = program.command('versions').description('list, create, show, publish and delete dataset versions');
  versions
    .command('list <datasetId>')
    .description('list the versions of a dataset (dg-…)')
    .action(async (datasetId: string) => {
      const all = await listVersions(client(), datasetId);
      print(io, { versions: all }, () =>
        all.length ? formatTable(all, ['versionId', 'versionNumber', 'importStatus', 'publishStatus', 'sampleCount', 'description']) : 'No versions.\n',
      );
    });
  versions
    .command('create <datasetId>')
    .description('add a version to a dataset (dg-…)')
    .option('--description <d>', 'the version description')
    .action(async (datasetId: string, opts: { description?: string }) => {
      const result = await client().v2.createDatasetVersion({ datasetId, ...(opts.description !== undefined ? { description: opts.description } : {}) });
      print(io, result, () => formatRecord(result));
    });
  versions
    .command('show <versionId>')
    .description('describe a version (ds-…)')
    .action(async (versionId: string) => {
      const result = await client().v2.describeDatasetVersion({ versionId });
      print(io, result, () => formatRecord(result));
    });
  versions
    .command('publish <versionId>')
    .description('publish a version (ds-…)')
    .action(async (versionId: string) => {
      const qf = client();
      await qf.v2.publishDatasetVersion({ versionId });
      // Publishing is immediate: report the version as it now is.
      const version = await qf.v2.describeDatasetVersion({ versionId });
      print(io, version, () =>
        `Published ${versionId} (version ${version.versionNumber} of ${version.datasetName}, ${version.datasetId}): publishStatus ${version.publishStatus}, ${version.sampleCount} samples; its content is read-only from now on.\n`,
      );
    });
  versions
    .command('delete <versionId>')
    .description('delete a version (ds-…)')
    .action(async (versionId: string) => {
      const result = await client().v2.deleteDatasetVersion({ versionId });
      print(io, result, () => `Deleted ${versionId}.\n`);
    });
}
