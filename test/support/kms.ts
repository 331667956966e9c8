/**
 * A stand-in for AWS KMS's Encrypt and Decrypt (the JSON 1.1 protocol, `X-Amz-Target: TrentService.*`), for the
 * KMS sealer's tests: no KMS emulator installs offline. It keeps KMS's contract that matters here — a ciphertext
 * opens only under the key id that sealed it and with the exact encryption context it was sealed with (else
 * `InvalidCiphertextException`) — and records every call, so tests can see what the real SDK client sent.
 * It does not check request signatures (AWS does); the sealer is verified against it, not against AWS.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface FakeKms {
  endpoint: string;
  keyId: string;
  calls: { target: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

const canonical = (context: Record<string, string> = {}) => JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));

export async function startFakeKms(keyId = 'arn:aws:kms:us-east-1:000000000000:key/test'): Promise<FakeKms> {
  const master = randomBytes(32);
  const calls: FakeKms['calls'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
      calls.push({ target, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      const aad = Buffer.from(`${body.KeyId}\0${canonical(body.EncryptionContext)}`);
      if (target === 'TrentService.Encrypt') {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', master, iv).setAAD(aad);
        const sealed = Buffer.concat([iv, cipher.update(Buffer.from(body.Plaintext, 'base64')), cipher.final(), cipher.getAuthTag()]);
        return reply(200, { CiphertextBlob: sealed.toString('base64'), KeyId: body.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      }
      if (target === 'TrentService.Decrypt') {
        try {
          const blob = Buffer.from(body.CiphertextBlob, 'base64');
          const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12)).setAAD(aad);
          decipher.setAuthTag(blob.subarray(blob.length - 16));
          const plain = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
          return reply(200, { Plaintext: plain.toString('base64'), KeyId: body.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        } catch {
          return reply(400, { __type: 'InvalidCiphertextException', message: 'The ciphertext or its encryption context is invalid.' });
        }
      }
      return reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    keyId,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
