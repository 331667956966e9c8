/**
 * Reads a zip in tests: its entries' names and text (yauzl, the reader the design names).
 */
import yauzl from 'yauzl';
import { readAll } from '../unit/objects.contract.js';

/** The entries of a zip: name → content as UTF-8 text. */
export async function unzip(buffer: Buffer): Promise<Record<string, string>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.fromBuffer(buffer, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z!))));
  const out: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) =>
      zip.openReadStream(entry, async (e, stream) => {
        if (e) return reject(e);
        out[entry.fileName] = (await readAll(stream!)).toString('utf8');
        zip.readEntry();
      }),
    );
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}
