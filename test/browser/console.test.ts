/**
 * The web console in a real browser (issue 17 point 5): Debian's chromium driven by playwright-core (no browser
 * download), against a full local stack. A scripted walk as a user does it — sign in with a key (a wrong one first),
 * make a bucket, create a dataset, import a file with one bad line from the bucket, watch the import, read the error
 * table, page the samples and annotate one (once the entity API is in the registry), export, download — with a
 * screenshot of every step in test/browser/artifacts/ (git-ignored), at 1280×800, in Chinese, and on a phone.
 *
 * Along the way it checks what the issue asks of the page itself: a strict Content-Security-Policy that nothing
 * violates, every control labelled and reachable by keyboard, every error shown with its wire code, the secret kept in
 * sessionStorage and never sent, and the signer's WebCrypto variant giving the spec's vector inside chromium.
 *
 * If chromium is missing or cannot start, the suite is skipped and its title says why (QFDATA_CHROMIUM names another
 * binary); with QFDATA_REQUIRE_BROWSER=1, as CI runs it, that is a failure instead.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiPaths } from '../../shared/api/registry.js';
import { buildConsole, createConsoleSite, measure, type ConsoleBuild } from '../../scripts/console.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { unzip } from '../support/zip.js';
import { startConsoleOrigin, type ConsoleOrigin } from './site.js';

const CHROMIUM = process.env.QFDATA_CHROMIUM || '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(ROOT, 'test/browser/artifacts');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** The entity API (samples) is served once the registry has it. */
const HAS_ENTITY_API = apiPaths().includes('/wenxinworkshop/entity/list');

const GOOD_LINES = 25;
const BAD_LINE = 7;
const line = (i: number) => JSON.stringify([{ prompt: `prompt ${i}`, response: [[`response ${i}`]] }]);

/** Whether a browser on `pageOrigin` may PUT to the object endpoint (it must answer the CORS preflight). */
async function corsProblem(objectsUrl: string, pageOrigin: string): Promise<string | undefined> {
  try {
    const preflight = await fetch(`${objectsUrl}/console-corpus/probe`, {
      method: 'OPTIONS',
      headers: { origin: pageOrigin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type,x-bce-date' },
    });
    const allowed = preflight.headers.get('access-control-allow-origin');
    return allowed === '*' || allowed === pageOrigin ? undefined : `the object endpoint answers the CORS preflight with ${preflight.status} and no Access-Control-Allow-Origin`;
  } catch (error) {
    return `the object endpoint does not answer: ${(error as Error).message}`;
  }
}

/** Starts chromium, or says why it cannot. */
async function launch(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set QFDATA_CHROMIUM)`;
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 30_000 });
  } catch (error) {
    return `chromium at ${CHROMIUM} does not start: ${(error as Error).message.split('\n')[0]}`;
  }
}

const launched = await launch();
const browser = typeof launched === 'string' ? undefined : launched;
if (typeof launched === 'string') {
  // CI sets QFDATA_REQUIRE_BROWSER=1: there a browser that cannot run is a failure, not a skip.
  if (process.env.QFDATA_REQUIRE_BROWSER === '1') throw new Error(`[console browser test] QFDATA_REQUIRE_BROWSER=1 but ${launched}`);
  console.warn(`[console browser test] SKIPPED: ${launched}`);
}

describe.skipIf(!browser)(`Browser: the web console in chromium${browser ? '' : ` (SKIPPED: ${String(launched)})`}`, () => {
  let s: TestStack;
  let origin: ConsoleOrigin;
  let consoleBuild: ConsoleBuild;
  let context: BrowserContext;
  let page: Page;
  let key: { accessKeyId: string; secretAccessKey: string };
  /** Why the upload steps cannot run (the object endpoint does not allow the console's origin), if so. */
  let uploadProblem: string | undefined;
  /** Everything the page sent, to prove the secret never left it. */
  const sent: string[] = [];
  /** Content-Security-Policy violations and page errors. */
  const problems: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const heading = () => page.locator('h1').first().textContent();
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const title = (name: string) => page.getByRole('heading', { name, exact: true });

  /** In the page (a string: this file is type-checked without the DOM library). */
  const inPage = <T>(expression: string) => page.evaluate<T>(expression);
  /** Every form control has a label (or an aria-label), every button and link a name. */
  const unlabelled = () =>
    inPage<string[]>(`(() => {
      const missing = [];
      for (const el of document.querySelectorAll('input, select, textarea')) {
        if ((el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label')) missing.push(el.outerHTML.slice(0, 80));
      }
      for (const el of document.querySelectorAll('button, a[href]')) {
        if (!(el.textContent ?? '').trim() && !el.getAttribute('aria-label')) missing.push(el.outerHTML.slice(0, 80));
      }
      return missing;
    })()`);

  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    consoleBuild = await buildConsole();
    const site = await createConsoleSite({ build: consoleBuild });
    origin = await startConsoleOrigin(site);
    s = await startTestStack({ env: { QFDATA_DOWNLOAD_BASE_URL: origin.url } });
    origin.route({ apiUrl: s.url, downloadUrl: s.downloadUrl });
    // Uploads go to the twin's object endpoint (the download server's origin): the page may connect there too.
    site.allow({ downloadUrls: [s.downloadUrl] });
    uploadProblem = await corsProblem(s.downloadUrl, origin.url);
    key = await s.addKey('console-walk');
    context = await browser!.newContext({ viewport: DESKTOP, locale: 'en-US', acceptDownloads: true });
    page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      sent.push(`${request.method()} ${request.url()}\n${JSON.stringify(request.headers())}\n${request.postData() ?? ''}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await origin?.close();
    await s?.cleanup();
  });

  it('bundles small: the whole app (preact, router, pages, both languages) is well under 50 KB gzipped', () => {
    // Act
    const sizes = measure(consoleBuild);
    const gzipped = sizes.reduce((sum, f) => sum + f.gzipped, 0);

    // Assess
    console.info(`[console] ${sizes.map((f) => `${f.file} ${f.bytes} B (${f.gzipped} B gzipped)`).join(', ')}`);
    expect(gzipped).toBeLessThan(50 * 1024);
  });

  it('signs in the browser: the WebCrypto signer gives the spec’s TV1 inside chromium', async () => {
    // Prepare: the browser signer, bundled alone
    const bundle = await build({ entryPoints: [path.join(ROOT, 'shared/signer/browser.ts')], bundle: true, write: false, format: 'iife', globalName: 'qfSigner', logLevel: 'error' });
    const signerPage = await context.newPage();
    await signerPage.goto(`${origin.url}/console/`);

    // Act
    const authorization = await signerPage.evaluate(`${bundle.outputFiles[0]!.text};
      qfSigner.signInBrowser({
        method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' },
        headers: { Host: 'qianfan.baidubce.com', 'Content-Type': 'application/json', 'Content-Length': 34, 'x-bce-date': '2024-05-01T12:00:00Z' },
        accessKeyId: 'test-ak-123', secretAccessKey: 'test-sk-456', timestamp: new Date('2024-05-01T12:00:00Z'), expirationInSeconds: 1800,
      }).then((r) => r.authorization)`);
    await signerPage.close();

    // Assess
    expect(authorization).toBe(
      'bce-auth-v1/test-ak-123/2024-05-01T12:00:00Z/1800/content-length;content-type;host;x-bce-date/f62facac7c488be1cd0a7f1336cb759512669596e9c4fbc8ea0deed384db5596',
    );
  });

  it('serves /console/ with a strict Content-Security-Policy and refuses other methods', async () => {
    // Act
    const index = await fetch(`${origin.url}/console/`);
    const redirect = await fetch(`${origin.url}/console`, { redirect: 'manual' });
    const post = await fetch(`${origin.url}/console/app.js`, { method: 'POST' });
    const missing = await fetch(`${origin.url}/console/nothing.js`);

    // Assess
    const policy = index.headers.get('content-security-policy') ?? '';
    expect(index.status).toBe(200);
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain(`connect-src 'self' ${new URL(s.downloadUrl).origin};`);
    expect(policy).toContain(`img-src 'self' data: ${new URL(s.downloadUrl).origin};`);
    expect(await index.text()).not.toMatch(/<script>|<style>|style=/);
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');
    expect(post.status).toBe(405);
    expect(missing.status).toBe(404);
  });

  it('walks: sign in, bucket, dataset, import with a bad line, error table, samples, export, download', async () => {
    // Sign in: a wrong secret first, whose error shows its wire code
    await page.goto(`${origin.url}/console/`);
    await title('Sign in with an access key').waitFor();
    await page.getByLabel('Access key ID').fill(key.accessKeyId);
    await page.getByLabel('Secret access key').fill(`${key.secretAccessKey}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByTestId('error-code').textContent()).toBe('SignatureDoesNotMatch');
    expect(await page.getByTestId('error-message').textContent()).toMatch(/signature/i);
    await shot('01-signin-refused');
    await page.getByLabel('Secret access key').fill(key.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await title('Datasets').waitFor();
    expect(await inPage<string>('JSON.stringify(localStorage)')).not.toContain(key.secretAccessKey);
    expect(await inPage<string>('JSON.stringify(sessionStorage)')).toContain(key.secretAccessKey);

    // An empty account: the empty state says what to do next
    await page.getByText('No datasets yet.').waitFor();
    expect(await unlabelled()).toEqual([]);
    await shot('02-datasets-empty');

    // Keyboard: the page's heading has the focus; from the top, the skip link comes first and leads to the content,
    // whose first control is the filter, which works from the keyboard alone
    expect(await inPage<string>('document.activeElement?.tagName')).toBe('H1');
    expect(await inPage<string>("document.querySelector('a[href], button, input, select, textarea')?.textContent")).toBe('Skip to content');
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await inPage<string>('document.activeElement?.id')).toBe('main');
    await page.keyboard.press('Tab');
    expect(await inPage<string>('document.activeElement?.id')).toBe('filter-name');
    await page.keyboard.type('nothing-like-this');
    await page.keyboard.press('Enter');
    await page.getByText('No dataset matches this filter.').waitFor();

    // A bucket through the Buckets page, and files put into it (as a user's upload would)
    await nav('Buckets').click();
    await title('Buckets').waitFor();
    await page.getByText('No buckets yet.').waitFor();
    await page.getByLabel('Bucket', { exact: true }).fill('console-corpus');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('cell', { name: 'console-corpus' }).waitFor();
    const lines = Array.from({ length: GOOD_LINES }, (_, i) => line(i));
    lines.splice(BAD_LINE - 1, 0, '{"prompt": "this line is not JSON"');
    const dir = path.join(s.dataDir, 'buckets', 'console-corpus', 'sft');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);

    // A dataset through the form; its first version
    await nav('Datasets').click();
    await page.getByLabel('Name', { exact: true }).fill('console walk');
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await title('console walk').waitFor();
    await shot('03-dataset');
    await page.getByRole('link', { name: 'V1', exact: true }).click();
    await title('console walk · V1').waitFor();
    await page.getByText('Nothing imported yet.').waitFor();
    expect(await unlabelled()).toEqual([]);

    // Import from the bucket and watch it: the task row moves to "Imported", the bad line lands in the error table
    await page.getByLabel('File or directory in the bucket').fill('sft/train.jsonl');
    await page.getByRole('button', { name: 'Start import' }).click();
    const tasks = page.getByTestId('import-tasks');
    await tasks.waitFor();
    await shot('04-import-started');
    await tasks.getByText('Imported', { exact: true }).waitFor({ timeout: 60_000 });
    const taskRow = await tasks.locator('tbody tr').first().innerText();
    expect(taskRow).toContain(String(GOOD_LINES));
    const errorTable = page.getByTestId('error-table');
    await errorTable.waitFor({ timeout: 30_000 });
    const errorRows = await errorTable.locator('tbody tr').allInnerTexts();
    expect(errorRows).toHaveLength(1);
    expect(errorRows[0]).toMatch(new RegExp(`^3\\s+bos:/console-corpus/sft/train.jsonl\\s+${BAD_LINE}\\s+.*JSON`, 's'));
    await page.getByText('Rejected lines: 1').waitFor();
    await shot('05-import-errors');

    // Samples: page through them and annotate one (the entity API, once it is served)
    if (HAS_ENTITY_API) {
      await page.getByRole('link', { name: 'Browse samples' }).click();
      await title('Samples').waitFor();
      await page.getByTestId('sample').first().getByTestId('response').waitFor();
      expect(await page.getByTestId('sample').count()).toBe(10);
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('Page 2 of 3').waitFor();
      const sample = page.getByTestId('sample').first();
      await sample.getByTestId('response').waitFor();
      await sample.getByRole('button', { name: 'Edit response' }).click();
      await sample.getByLabel('Response').fill('edited in the console');
      await sample.getByRole('button', { name: 'Save annotation' }).click();
      await sample.getByText('edited in the console').waitFor();
      await shot('06-samples-annotated');
      await page.goBack();
      await title('console walk · V1').waitFor();
    } else {
      console.warn('[console browser test] the entity API is not in the registry yet: the samples steps did not run');
    }

    // Export to platform storage, watch it finish, download the archive
    await page.getByRole('button', { name: 'Start export' }).click();
    const download = page.getByTestId('export-download');
    await download.waitFor({ timeout: 60_000 });
    await shot('07-exported');
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    const bytes = await readFile((await file.path())!);
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
    const members = await unzip(bytes);
    const exported = Object.values(members).join('');
    expect(exported.trim().split('\n')).toHaveLength(GOOD_LINES);
    if (HAS_ENTITY_API) expect(exported).toContain('edited in the console');

    // Upload from this computer into the bucket, then import (through the twin's BOS-compatible endpoint)
    if (!uploadProblem) {
      await page.getByLabel('Files from this computer (uploaded into the bucket first)').check();
      await page.getByLabel('Upload into directory').fill('uploads/');
      await page.getByLabel('Files', { exact: true }).setInputFiles({ name: 'more.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(`${[100, 101, 102].map(line).join('\n')}\n`) });
      await page.getByRole('button', { name: 'Upload and import' }).click();
      await page.getByTestId('import-tasks').locator('tbody tr').nth(1).waitFor({ timeout: 30_000 });
      await page.getByTestId('import-tasks').locator('tbody tr').first().getByText('Imported', { exact: true }).waitFor({ timeout: 60_000 });
      // Its row: imported, 3 samples, 0 rejected
      expect(await page.getByTestId('import-tasks').locator('tbody tr').first().innerText()).toMatch(/Imported\s+100%\s+3\s+0\s/);
      await shot('07b-uploaded');
    } else {
      console.warn(`[console browser test] the upload step did not run: ${uploadProblem}`);
    }

    // Chinese, then back
    await page.getByTestId('language').click();
    await title('导出').waitFor();
    expect(await inPage<string>('document.documentElement.lang')).toBe('zh-CN');
    await shot('08-version-zh');
    await page.getByTestId('language').click();
    await title('Exports').waitFor();

    // A phone: nothing wider than the screen
    await page.setViewportSize(PHONE);
    await shot('09-version-phone');
    expect(await inPage<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(DESKTOP);

    // A business error of the API, with its wire code: a dataset stored in the platform's bucket
    await nav('Datasets').click();
    await page.getByLabel('Name', { exact: true }).fill('not allowed');
    await page.getByLabel('Storage', { exact: true }).selectOption('BOS');
    await page.getByLabel('Bucket directory').fill('bos:/qfdata/mine/');
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await page.getByTestId('error-code').waitFor();
    expect(await page.getByTestId('error-code').textContent()).toBe('AccessDenied');
    await shot('10-error');

    // Export schedules: none yet, then one made on the dataset's page
    await nav('Export schedules').click();
    await page.getByText('No export schedules.').waitFor();
    await nav('Datasets').click();
    await page.getByRole('link', { name: 'console walk', exact: true }).click();
    await title('console walk').waitFor();
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByText('Schedule created:').waitFor();
    await nav('Export schedules').click();
    await page.getByRole('cell', { name: 'rate(1 day)' }).waitFor();
    expect(await unlabelled()).toEqual([]);
    await shot('11-schedules');

    // Access keys: this tab's key is listed; a read-only key is made, its secret shown once
    await nav('Access keys').click();
    await page.getByText('this tab’s key').waitFor();
    await page.getByLabel('Policy').selectOption('QfdataReadOnlyAccessPolicy');
    await page.getByLabel('Description').fill('console walk: read only');
    await page.getByRole('button', { name: 'Create key' }).click();
    const readOnly = { accessKeyId: (await page.getByTestId('issued-ak').textContent())!, secretAccessKey: (await page.getByTestId('issued-sk').textContent())! };
    expect(readOnly.secretAccessKey.length).toBeGreaterThan(20);
    expect(await unlabelled()).toEqual([]);
    await shot('12-keys');

    // Sign out forgets the key
    await page.getByRole('button', { name: 'Sign out' }).click();
    await title('Sign in with an access key').waitFor();
    expect(await inPage<number>('sessionStorage.length')).toBe(0);

    // The read-only key reads, and is refused key management with the wire code
    await page.getByLabel('Access key ID').fill(readOnly.accessKeyId);
    await page.getByLabel('Secret access key').fill(readOnly.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav('Datasets').click();
    await page.getByRole('link', { name: 'console walk', exact: true }).waitFor();
    await nav('Access keys').click();
    await page.getByTestId('error-code').first().waitFor();
    expect(await page.getByTestId('error-code').first().textContent()).toBe('AccessDenied');
    await shot('13-read-only-refused');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await title('Sign in with an access key').waitFor();

    // Assess across the walk: no secret was ever sent, and nothing broke the policy
    expect(sent.length).toBeGreaterThan(20);
    expect(sent.filter((request) => request.includes(key.secretAccessKey) || request.includes(readOnly.secretAccessKey))).toEqual([]);
    expect(problems).toEqual([]);
    expect(await heading()).toBe('Sign in with an access key');
  }, 240_000);
});
