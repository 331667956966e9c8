/**
 * Reads a zip in tests: its entries' names and text (yauzl, the reader the design names).
 */
import yauzl from 'yauzl';
import { readAll } from '../unit/objects.contract.js';

/** The entries of a zip: name → content as UTF-8 text. */
export async function unzip(buffer: Buffer): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await unzipBytes(buffer)).map(([name, bytes]) => [name, bytes.toString('utf8')]));
}

/** The entries of a zip: name → bytes. */
export async function unzipBytes(buffer: Buffer): Promise<Record<string, Buffer>> {
  return entriesOf(await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.fromBuffer(buffer, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z!)))));
}

/** Every entry of an open zip (opened with `lazyEntries`), read in order: name → bytes. */
export async function entriesOf(zip: yauzl.ZipFile): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) =>
      zip.openReadStream(entry, async (e, stream) => {
        if (e) return reject(e);
        out[entry.fileName] = await readAll(stream!);
        zip.readEntry();
      }),
    );
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}
