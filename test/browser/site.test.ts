/**
 * The console's build and serving (scripts/console.ts) without a browser: what the page is allowed to load and
 * reach, what `/console` answers, and the static assets `npm run console:build` writes.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, contentSecurityPolicy, createConsoleSite, measure, writeConsole, type ConsoleBuild, type ConsoleSite } from '../../scripts/console.js';

describe('Module: scripts/console (build and serving)', () => {
  let built: ConsoleBuild;
  let site: ConsoleSite;
  let server: Server;
  let url = '';
  const passedThrough: string[] = [];

  beforeAll(async () => {
    built = await buildConsole();
    site = await createConsoleSite({ build: built, origins: { downloadUrls: ['http://127.0.0.1:8869/_download/x'] } });
    server = createServer((req, res) => {
      if (site.handle(req, res)) return;
      passedThrough.push(`${req.method} ${req.url}`);
      res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('builds app.js, app.css and index.html, small (measured gzipped)', () => {
    // Act
    const sizes = measure(built);

    // Assess
    expect(sizes.map((s) => s.file).sort()).toEqual(['app.css', 'app.js', 'index.html']);
    expect(sizes.reduce((sum, s) => sum + s.gzipped, 0)).toBeLessThan(50 * 1024);
    expect(built.files.get('app.js')!.toString()).not.toMatch(/sourceMappingURL|https?:\/\/(cdn|unpkg|esm\.sh)/);
  });

  it('the policy allows only its own scripts and styles, and requests to itself, the API and download origins', () => {
    // Act
    const sameOrigin = contentSecurityPolicy({ downloadUrls: ['http://127.0.0.1:8869/_download/a?authorization=x'] });
    const elsewhere = contentSecurityPolicy({ apiUrl: 'https://api.example.com/base', downloadUrls: ['https://bucket.s3.amazonaws.com', 'https://bucket.s3.amazonaws.com/other'] });

    // Assess
    expect(sameOrigin).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http://127.0.0.1:8869; connect-src 'self' http://127.0.0.1:8869; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(elsewhere).toContain("connect-src 'self' https://api.example.com https://bucket.s3.amazonaws.com;");
    expect(elsewhere).not.toMatch(/unsafe-(inline|eval)|\*/);
  });

  it('serves the page under /console/ with the policy and security headers; other paths pass through untouched', async () => {
    // Act
    const index = await fetch(`${url}/console/`);
    const script = await fetch(`${url}/console/app.js`);
    const head = await fetch(`${url}/console/app.css`, { method: 'HEAD' });
    const bare = await fetch(`${url}/console`, { redirect: 'manual' });
    const posted = await fetch(`${url}/console/`, { method: 'POST', body: '{}' });
    const unknown = await fetch(`${url}/console/../etc/passwd`);
    const api = await fetch(`${url}/v2/dataset?Action=DescribeDatasets`, { method: 'POST', body: '{}' });
    const lookalike = await fetch(`${url}/consoles`);

    // Assess
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self' http://127.0.0.1:8869");
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    expect(html).toContain('<meta name="qfdata-api" content="" />');
    expect(html).not.toContain('http-equiv="Content-Security-Policy"');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.arrayBuffer()).byteLength).toBe(built.files.get('app.js')!.length);
    expect(head.status).toBe(200);
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/console/');
    expect(posted.status).toBe(405);
    expect(unknown.status).toBe(418); // fetch normalises "/console/../etc/passwd" to "/etc/passwd": not ours
    expect(api.status).toBe(418);
    expect(lookalike.status).toBe(418);
    expect(passedThrough).toEqual(['GET /etc/passwd', 'POST /v2/dataset?Action=DescribeDatasets', 'GET /consoles']);
  });

  it('answers 404 for a name it does not serve, even a file of the source tree', async () => {
    // Act
    const answers = await Promise.all(['main.tsx', 'src/main.tsx', '..%2Fpackage.json', 'app.js.map'].map((name) => fetch(`${url}/console/${name}`)));

    // Assess
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404]);
  });

  it('writes static assets for another host: index.html carries the API URL and the policy as meta tags', async () => {
    // Prepare
    const out = await mkdtemp(path.join(tmpdir(), 'qfdata-console-'));

    try {
      // Act
      await writeConsole(out, { apiUrl: 'https://api.example.com', downloadUrls: ['https://exports.example.com'] }, built);
      const html = await readFile(path.join(out, 'index.html'), 'utf8');

      // Assess
      expect(html).toContain('<meta name="qfdata-api" content="https://api.example.com" />');
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy({ apiUrl: 'https://api.example.com', downloadUrls: ['https://exports.example.com'] })}" />`);
      expect(await readFile(path.join(out, 'app.js'))).toEqual(built.files.get('app.js'));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
