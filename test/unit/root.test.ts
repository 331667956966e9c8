/**
 * The composition root (`shared/root.ts`): the configuration is parsed when a function's bundle loads, so a bad
 * variable fails the start naming the variable (not a request later, where the error mapper's own logging used to
 * throw a second time and lose the envelope); and the parts are built once per process.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureKeyFile } from '../../shared/keys/secrets.js';

describe('The composition root', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it.each([
    ['QFDATA_TIME_ZONE', 'Mars/Olympus_Mons', 'must be an IANA time zone'],
    ['QFDATA_OBJECT_STORE', 'floppy', 'QFDATA_OBJECT_STORE'],
    ['QFDATA_KEY_CACHE_SECONDS', '-5', 'QFDATA_KEY_CACHE_SECONDS'],
  ])('fails to load with a bad %s, naming it', async (variable, value, message) => {
    // Prepare
    vi.stubEnv(variable, value);
    vi.resetModules();
    // Act
    const loading = import('../../shared/root.js');
    // Assess
    await expect(loading).rejects.toThrow(variable);
    await expect(loading).rejects.toThrow(message);
  });

  it('builds each part once per process', async () => {
    // Prepare: a key file for the local sealer, as npm start makes one
    const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-root-'));
    vi.stubEnv('QFDATA_SECRETS_KEY_FILE', ensureKeyFile(path.join(dir, 'secrets.key')));
    vi.resetModules();
    const { root, datasets, accessKeys } = await import('../../shared/root.js');
    // Assess
    expect(root()).toBe(root());
    expect(datasets()).toBe(root().services.datasets);
    expect(accessKeys()).toBe(root().keys);
  });

  it('keeps logging when the configuration is bad (the level falls back to info)', async () => {
    // Prepare
    vi.stubEnv('LOG_LEVEL', 'chatty');
    vi.resetModules();
    const { log } = await import('../../shared/log.js');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // Act
    log.info('still here');
    // Assess
    expect(String(out.mock.calls[0]?.[0])).toContain('still here');
    out.mockRestore();
  });
});
