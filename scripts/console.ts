/**
 * The web console's build and its serving (the app itself is under console/).
 *
 * - `buildConsole()` bundles console/src with esbuild (preact + wouter-preact, minified) into three files:
 *   `index.html`, `app.js`, `app.css`. No CDN, nothing fetched at run time.
 * - `createConsoleSite()` serves them under `/console/` from any Node HTTP server (the local gateway, on the API
 *   port: same origin as the API, so the API needs no CORS), with a strict Content-Security-Policy: no inline script
 *   or style, `default-src 'self'`, `connect-src` limited to the page's own origin (the API) and the download server.
 * - `npm run console:build -- --out <dir> [--api <url>] [--downloads <origin>…]` writes the same files as static
 *   assets for any static host, with the policy and the API's URL in `index.html`'s `<meta>` tags.
 *
 * The console has no access of its own: it signs every request in the page with the key the user enters.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** Where the console is served on the API port. */
export const CONSOLE_PATH = '/console';

/** The checkout: the nearest directory above this file (bundled or not) that holds the console's sources. */
function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'console', 'index.html'))) return d;
    if (path.dirname(d) === d) throw new Error(`console/index.html not found above ${dir}`);
  }
}

const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

export interface ConsoleBuild {
  /** `index.html` (a template: see {@link renderIndex}), `app.js`, `app.css`. */
  files: ReadonlyMap<string, Buffer>;
}

/** Bundles the console (about a quarter of a second). */
export async function buildConsole(): Promise<ConsoleBuild> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { app: path.join(ROOT, 'console/src/main.tsx') },
    outdir: 'out',
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(ROOT, 'console/tsconfig.json'),
    legalComments: 'none',
    logLevel: 'warning',
  });
  const files = new Map<string, Buffer>();
  for (const file of result.outputFiles) files.set(path.basename(file.path), Buffer.from(file.contents));
  if (!files.has('app.js') || !files.has('app.css')) throw new Error(`console build produced ${[...files.keys()].join(', ')}, not app.js and app.css`);
  files.set('index.html', await readFile(path.join(ROOT, 'console/index.html')));
  return { files };
}

/** `https://host:port` of a URL ('' stays ''). */
function originOf(url: string): string {
  return url ? new URL(url).origin : '';
}

export interface PolicyOrigins {
  /** The API, when it is not the page's own origin. */
  apiUrl?: string;
  /** Download links (import error reports, samples, export archives): the download server or the object store. */
  downloadUrls?: string[];
}

/** The console's Content-Security-Policy: its own scripts and styles only, requests only to the API and downloads. */
export function contentSecurityPolicy(origins: PolicyOrigins = {}): string {
  const others = [...new Set([originOf(origins.apiUrl ?? ''), ...(origins.downloadUrls ?? []).map(originOf)].filter(Boolean))];
  const downloads = [...new Set((origins.downloadUrls ?? []).map(originOf).filter(Boolean))];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${downloads.join(' ')}`.trim(),
    `connect-src 'self' ${others.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** index.html with the API's URL (`''`: the page's own origin) and, for static hosting, the policy as a meta tag. */
export function renderIndex(template: Buffer, options: { apiUrl: string; metaPolicy?: string }): Buffer {
  const html = template
    .toString('utf8')
    .replace('<meta name="qfdata-api" content="" />', `<meta name="qfdata-api" content="${escapeAttribute(options.apiUrl)}" />`)
    .replace('<!--qfdata:csp-->', options.metaPolicy ? `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(options.metaPolicy)}" />` : '');
  return Buffer.from(html, 'utf8');
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface ConsoleSite {
  /** `/console` */
  readonly basePath: string;
  /**
   * Answers GET and HEAD under the base path (anything else there: 405) and returns true; returns false, touching
   * nothing, for every other path, which the caller serves as before.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Sets the origins the page may reach besides its own (known once the download server is up). */
  allow(origins: PolicyOrigins): void;
  /** The console's address on a server whose URL is `serverUrl`. */
  url(serverUrl: string): string;
}

/** Serves a build under `/console/` on the API's own origin (the API is the page's origin: no CORS needed). */
export async function createConsoleSite(options: { build?: ConsoleBuild; origins?: PolicyOrigins } = {}): Promise<ConsoleSite> {
  const { files } = options.build ?? (await buildConsole());
  const index = renderIndex(files.get('index.html')!, { apiUrl: '' });
  let policy = contentSecurityPolicy(options.origins);
  const base = CONSOLE_PATH;

  const send = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer) => {
    res.writeHead(status, {
      'content-security-policy': policy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'content-length': String(body.length),
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  return {
    basePath: base,
    allow(origins) {
      policy = contentSecurityPolicy(origins);
    },
    url: (serverUrl) => `${serverUrl.replace(/\/+$/, '')}${base}/`,
    handle(req, res) {
      const pathname = (req.url ?? '/').split('?')[0]!;
      if (pathname !== base && !pathname.startsWith(`${base}/`)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(req, res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, Buffer.from('Only GET and HEAD are served here.\n'));
        return true;
      }
      if (pathname === base) {
        send(req, res, 301, { location: `${base}/`, 'content-type': 'text/plain; charset=utf-8' }, Buffer.from(`${base}/\n`));
        return true;
      }
      const name = pathname.slice(base.length + 1) || 'index.html';
      const body = name === 'index.html' ? index : TYPES[name] ? files.get(name) : undefined;
      if (!body) {
        send(req, res, 404, { 'content-type': 'text/plain; charset=utf-8' }, Buffer.from('Not found.\n'));
        return true;
      }
      send(req, res, 200, { 'content-type': TYPES[name]!, 'cache-control': 'no-cache' }, body);
      return true;
    },
  };
}

/** The launcher's banner line for the console. */
export function consoleBanner(consoleUrl: string): string {
  return `Web console: ${consoleUrl}  (sign in with the access key below)`;
}

/** Raw and gzipped sizes of a build's files, in bytes. */
export function measure(build: ConsoleBuild): { file: string; bytes: number; gzipped: number }[] {
  return [...build.files].map(([file, body]) => ({ file, bytes: body.length, gzipped: gzipSync(body, { level: 9 }).length }));
}

/** Writes the static assets: `index.html` (with the policy and the API's URL as meta tags), `app.js`, `app.css`. */
export async function writeConsole(outDir: string, origins: PolicyOrigins = {}, consoleBuild?: ConsoleBuild): Promise<ConsoleBuild> {
  const built = consoleBuild ?? (await buildConsole());
  await mkdir(outDir, { recursive: true });
  for (const [file, body] of built.files) {
    const out = file === 'index.html' ? renderIndex(body, { apiUrl: origins.apiUrl ?? '', metaPolicy: contentSecurityPolicy(origins) }) : body;
    await writeFile(path.join(outDir, file), out);
  }
  return built;
}

const USAGE = `usage: npm run console:build -- [--out <dir>] [--api <url>] [--downloads <url>]…

Writes the console as static assets (index.html, app.js, app.css) into <dir> (default console/dist).
  --api <url>        the API the console calls, when the assets are served from another origin
                     (default: the origin the page is served from)
  --downloads <url>  an origin download links point to (the download server, the S3/BOS endpoint); repeatable`;

/** `npm run console:build`. */
export async function main(args: string[] = []): Promise<void> {
  let outDir = path.join(ROOT, 'console/dist');
  const origins: Required<PolicyOrigins> = { apiUrl: '', downloadUrls: [] };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (value === undefined || !['--out', '--api', '--downloads'].includes(flag!)) throw new Error(`unknown or incomplete argument ${flag}\n${USAGE}`);
    if (flag !== '--out' && !/^https?:\/\/[^/]/.test(value)) throw new Error(`${flag} needs an http(s) URL, got ${value}`);
    if (flag === '--out') outDir = path.resolve(value);
    if (flag === '--api') origins.apiUrl = value;
    if (flag === '--downloads') origins.downloadUrls.push(value);
    i++;
  }
  const built = await writeConsole(outDir, origins);
  process.stdout.write(`console written to ${outDir}\n`);
  for (const { file, bytes, gzipped } of measure(built)) process.stdout.write(`  ${file.padEnd(11)} ${(bytes / 1024).toFixed(1).padStart(6)} KB  (${(gzipped / 1024).toFixed(1)} KB gzipped)\n`);
}
