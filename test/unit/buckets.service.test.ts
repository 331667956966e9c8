/**
 * Buckets belong to accounts (issue 10 point 1), against dynalite and the filesystem object store: who may use a
 * bucket (owner, grantee, the root account for unclaimed ones, nobody for the platform's), creation and its races,
 * grants and their withdrawal, listings, and the checks every request that names a bucket goes through.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InappropriateJSONError } from '../../shared/errors.js';
import { startServiceHarness, type ServiceHarness } from '../support/services.js';

const missing = (bucket: string) => new InappropriateJSONError(`the bucket "${bucket}" does not exist`);

describe('Buckets: owners, grants and the platform bucket', () => {
  let h: ServiceHarness;

  beforeAll(async () => {
    h = await startServiceHarness({ name: 'buckets', buckets: ['qfdata'], settings: { platformBucket: 'qfdata', rootAccount: 'root' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets an account use the bucket it created, and no other account until the owner grants it', async () => {
    // Prepare
    const { buckets } = h.services();
    // Act
    const created = await buckets.create({ account: 'team-a' }, 'team-a-data');
    // Assess
    expect(created).toEqual({ bucket: 'team-a-data', role: 'owner', grants: [] });
    expect(await h.objects.bucketExists('team-a-data')).toBe(true);
    await expect(buckets.assertUsable({ account: 'team-a' }, 'team-a-data', missing)).resolves.toBeUndefined();
    await expect(buckets.assertUsable({ account: 'team-b' }, 'team-a-data', missing)).rejects.toMatchObject({
      code: 'AccessDenied',
      message: expect.stringContaining('the bucket "team-a-data" is not one of your account\'s buckets'),
    });
    await expect(buckets.assertUsable({ account: 'root' }, 'team-a-data', missing)).rejects.toMatchObject({ code: 'AccessDenied' });
    // Act: the owner grants it, then takes it back
    await buckets.grant({ account: 'team-a' }, 'team-a-data', 'team-b');
    await expect(buckets.assertUsable({ account: 'team-b' }, 'team-a-data', missing)).resolves.toBeUndefined();
    expect(await buckets.list({ account: 'team-a' })).toEqual([{ bucket: 'team-a-data', role: 'owner', grants: ['team-b'] }]);
    expect(await buckets.list({ account: 'team-b' })).toEqual([{ bucket: 'team-a-data', role: 'grantee' }]);
    await buckets.revoke({ account: 'team-a' }, 'team-a-data', 'team-b');
    await expect(buckets.assertUsable({ account: 'team-b' }, 'team-a-data', missing)).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(await buckets.list({ account: 'team-b' })).toEqual([]);
  });

  it('never lets anyone name the platform bucket, create it, or grant it', async () => {
    // Prepare
    const { buckets } = h.services();
    // Assess
    for (const account of ['root', 'team-a']) {
      await expect(buckets.assertUsable({ account }, 'qfdata', missing)).rejects.toMatchObject({
        code: 'AccessDenied',
        message: expect.stringContaining("the bucket \"qfdata\" is qfdata's platform storage"),
      });
      await expect(buckets.create({ account }, 'qfdata')).rejects.toMatchObject({ code: 'BucketAlreadyExists' });
      await expect(buckets.grant({ account }, 'qfdata', 'team-b')).rejects.toMatchObject({ code: 'AccessDenied' });
    }
    await expect(buckets.grant({ account: 'root' }, 'qfdata', 'team-b', { operator: true })).rejects.toMatchObject({ code: 'AccessDenied' });
    expect((await buckets.list({ account: 'root' })).map((b) => b.bucket)).not.toContain('qfdata');
  });

  it('gives a bucket nobody claimed (a directory made by hand) to the root account, which may grant it', async () => {
    // Prepare
    const { buckets } = h.services();
    await mkdir(path.join(h.dataDir, 'buckets', 'by-hand'), { recursive: true });
    // Assess
    await expect(buckets.assertUsable({ account: 'root' }, 'by-hand', missing)).resolves.toBeUndefined();
    await expect(buckets.assertUsable({ account: 'team-a' }, 'by-hand', missing)).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(buckets.create({ account: 'team-a' }, 'by-hand')).rejects.toMatchObject({ code: 'BucketAlreadyExists' });
    await expect(buckets.grant({ account: 'team-a' }, 'by-hand', 'team-a')).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(await buckets.list({ account: 'root' })).toContainEqual({ bucket: 'by-hand', role: 'owner', grants: [] });
    // Act
    await buckets.grant({ account: 'root' }, 'by-hand', 'team-a');
    // Assess
    await expect(buckets.assertUsable({ account: 'team-a' }, 'by-hand', missing)).resolves.toBeUndefined();
    expect((await h.store.getBucketAccess('by-hand')).owner?.owner).toBe('root');
  });

  it('answers a missing bucket in the caller\'s wording, and a grant of one as not found', async () => {
    // Prepare
    const { buckets } = h.services();
    // Assess
    await expect(buckets.assertUsable({ account: 'team-a' }, 'never-made', missing)).rejects.toThrow('the bucket "never-made" does not exist');
    await expect(buckets.grant({ account: 'team-a' }, 'never-made', 'team-b')).rejects.toMatchObject({ code: 'ResourceNotFound' });
  });

  it('makes one owner of concurrent creates of one name, and a repeat by the owner succeeds', async () => {
    // Prepare
    const { buckets } = h.services();
    const accounts = ['race-1', 'race-2', 'race-3', 'race-4', 'race-5', 'race-6'];
    // Act
    const results = await Promise.allSettled(accounts.map((account) => buckets.create({ account }, 'contested')));
    // Assess
    const winners = accounts.filter((_, i) => results[i]!.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'BucketAlreadyExists' });
    expect((await h.store.getBucketAccess('contested')).owner?.owner).toBe(winners[0]);
    await expect(buckets.create({ account: winners[0]! }, 'contested')).resolves.toMatchObject({ role: 'owner' });
  });

  it('refuses creation where buckets are named at deploy (the cloud)', async () => {
    // Prepare
    const { buckets } = h.services({ settings: { canCreateBuckets: false } });
    // Assess
    await expect(buckets.create({ account: 'team-a' }, 'cloud-bucket')).rejects.toMatchObject({ code: 'NotSupported' });
    expect(await h.objects.bucketExists('cloud-bucket')).toBe(false);
  });

  it('lets only the owner grant and revoke', async () => {
    // Prepare
    const { buckets } = h.services();
    await buckets.create({ account: 'owner-x' }, 'owned-x');
    await buckets.grant({ account: 'owner-x' }, 'owned-x', 'grantee-x');
    // Assess
    await expect(buckets.grant({ account: 'grantee-x' }, 'owned-x', 'third-x')).rejects.toMatchObject({
      code: 'AccessDenied',
      message: 'Access denied: only the owner of the bucket "owned-x" may grant it or take grants back.',
    });
    await expect(buckets.revoke({ account: 'grantee-x' }, 'owned-x', 'grantee-x')).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(buckets.assertUsable({ account: 'third-x' }, 'owned-x', missing)).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('refuses, in a deployment that names its buckets, every bucket it was not given, saying how to allow it (issue 14)', async () => {
    // Prepare: a deployment given one user bucket
    await h.objects.createBucket('given-bucket');
    await h.objects.createBucket('other-bucket');
    const { buckets } = h.services({ settings: { userBuckets: ['given-bucket'], canCreateBuckets: false } });
    // Act + Assess
    await expect(buckets.assertUsable({ account: 'root' }, 'given-bucket', missing)).resolves.toBeUndefined();
    for (const attempt of [
      () => buckets.assertUsable({ account: 'root' }, 'other-bucket', missing),
      () => buckets.grant({ account: 'root' }, 'other-bucket', 'team-z', { operator: true }),
      () => buckets.createForOperator('other-bucket', 'team-z'),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'AccessDenied', message: expect.stringContaining('add it to the stage parameter userBuckets') });
    }
    expect(await h.store.getBucketAccess('other-bucket')).toEqual({ grants: [] });
  });
});
