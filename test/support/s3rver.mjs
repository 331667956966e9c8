/**
 * Runs s3rver for the S3 object-store tests, as a child process, because it needs `node --openssl-legacy-provider`
 * (its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in the legacy provider; without it any
 * truncated listing answers 500) and vitest workers cannot take that flag.
 *
 *   node --openssl-legacy-provider test/support/s3rver.mjs <port> <directory>
 *
 * Listens on 127.0.0.1 (`<port>` 0 picks a free one), stores buckets under `<directory>`, and prints one line,
 * `S3RVER_READY <port>`, once it accepts requests. Stops on SIGTERM or SIGINT, or when its parent goes away.
 */
import S3rver from 's3rver';

const [portArg = '0', directory] = process.argv.slice(2);
if (directory === undefined) {
  console.error('usage: s3rver.mjs <port> <directory>');
  process.exit(2);
}

// s3rver's filesystem backend can throw outside a request (a race between concurrent puts and deletes of a key and
// the keys below it): say so on stderr and keep serving, so one bad request cannot take every later test down.
process.on('uncaughtException', (error) => console.error(`s3rver: uncaught ${error?.stack ?? error}`));
process.on('unhandledRejection', (error) => console.error(`s3rver: unhandled ${error?.stack ?? error}`));

const server = new S3rver({ address: '127.0.0.1', port: Number(portArg), directory, silent: true });
const { port } = await server.run();
console.log(`S3RVER_READY ${port}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process holds our stdin open; when it ends (even by a crash) we stop too.
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
