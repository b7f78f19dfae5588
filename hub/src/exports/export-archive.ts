import { createHash, type KeyObject, sign } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import type { EventItem } from '@camhub/shared';
import { EVENT_CSV_HEADER, eventCsvRow } from './csv.js';

export const MANIFEST_FORMAT = 'camhub-evidence-export/1';
export const MANIFEST_NAME = 'manifest.json';
export const SIGNATURE_NAME = 'manifest.sig';
export const PUBLIC_KEY_NAME = 'hub-public-key.pem';
/** `sha256sum -c` input for every other file of the archive, so it can be checked with stock tools alone. */
export const SUMS_NAME = 'SHA256SUMS';
/** Raw Ed25519 signature (64 bytes) of SHA256SUMS: `openssl pkeyutl -verify -rawin -sigfile` reads it as it is. */
export const SUMS_SIGNATURE_NAME = 'SHA256SUMS.sig';

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** SHA256SUMS's lines: `<hex>  <path>` (two spaces: binary-safe text mode of sha256sum), in archive order. */
export function sha256Sums(files: { path: string; sha256: string }[]): Buffer {
  return Buffer.from(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
}

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  exportId: string;
  createdAt: string;
  exportedBy: { username: string; roles: string[] };
  filters: Record<string, unknown>;
  reason: string | null;
  hub: { keyId: string; signature: 'Ed25519 over the bytes of manifest.json, base64 in manifest.sig' };
  /** `clips`: event clips in the archive (clips/<hex>.mp4, each with its SHA-256 in `files`). */
  counts: { events: number; snapshots: number; snapshotsMissing: number; clips?: number };
  missingSnapshots: { ref: string; reason: 'expired' | 'not_uploaded' }[];
  files: ManifestFile[];
}

/** Passes bytes through while hashing and counting them. */
function hashing(): Transform & { result: () => { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return Object.assign(t, { result: () => ({ sha256: hash.digest('hex'), bytes }) });
}

async function write(stream: Writable, text: string) {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Writes events to CSV and JSON files page by page; memory holds one page and the set of snapshot references. */
export async function writeEventFiles(
  pages: AsyncIterable<EventItem[]>,
  csvPath: string,
  jsonPath: string,
  onEvent: (e: EventItem) => Promise<void> | void,
): Promise<number> {
  const csv = createWriteStream(csvPath, { mode: 0o600 });
  const json = createWriteStream(jsonPath, { mode: 0o600 });
  let count = 0;
  try {
    await write(csv, EVENT_CSV_HEADER);
    await write(json, '[');
    for await (const page of pages) {
      for (const e of page) {
        await write(csv, eventCsvRow(e));
        await write(json, `${count === 0 ? '\n' : ',\n'}${JSON.stringify(e)}`);
        await onEvent(e);
        count += 1;
      }
    }
    await write(json, count === 0 ? ']\n' : '\n]\n');
  } finally {
    csv.end();
    json.end();
    await Promise.all([once(csv, 'close'), once(json, 'close')]);
  }
  return count;
}

export interface ArchiveInput {
  outPath: string;
  /** Files in archive order: the path inside the zip and how to read it when its turn comes. */
  files: { path: string; open: () => Promise<Readable>; compress: boolean }[];
  manifest: Omit<ExportManifest, 'files'>;
  privateKey: KeyObject;
  publicKeyPem: string;
}

/**
 * Streams every file into the zip (one open file at a time), hashing each as it goes, then appends the signed
 * manifest. Returns the archive's own SHA-256 and size.
 */
export async function writeArchive(input: ArchiveInput): Promise<{ sha256: string; bytes: number }> {
  const zip = new ZipFile();
  const whole = hashing();
  const written = pipeline(
    zip.outputStream as unknown as Readable,
    whole,
    createWriteStream(input.outPath, { mode: 0o600 }),
  );
  const failed = new Promise<never>((_, reject) => zip.once('error', reject));
  // Keep an unobserved rejection from crashing the process when the zip fails after we stopped waiting.
  failed.catch(() => undefined);

  const digests = input.files.map(
    (f) =>
      new Promise<ManifestFile>((resolve, reject) => {
        zip.addReadStreamLazy(f.path, { compress: f.compress, mtime: new Date(input.manifest.createdAt) }, (cb) => {
          f.open().then(
            (source) => {
              const h = hashing();
              source.on('error', (err) => h.destroy(err));
              h.on('end', () => resolve({ path: f.path, ...h.result() }));
              h.on('error', reject);
              cb(null, source.pipe(h));
            },
            (err: Error) => {
              reject(err);
              cb(err, undefined as unknown as NodeJS.ReadableStream);
            },
          );
        });
      }),
  );
  const files = await Promise.race([Promise.all(digests), failed]);
  const manifest: ExportManifest = { ...input.manifest, files };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const signature = sign(null, manifestBytes, input.privateKey).toString('base64');
  const mtime = new Date(input.manifest.createdAt);
  const signatureBytes = Buffer.from(`${signature}\n`);
  const publicKeyBytes = Buffer.from(input.publicKeyPem);
  zip.addBuffer(manifestBytes, MANIFEST_NAME, { mtime });
  zip.addBuffer(signatureBytes, SIGNATURE_NAME, { mtime });
  zip.addBuffer(publicKeyBytes, PUBLIC_KEY_NAME, { mtime });
  // Police check an export with sha256sum and openssl, without our software: every file is listed, and the list is
  // signed with the same key as the manifest.
  const sums = sha256Sums([
    ...files,
    { path: MANIFEST_NAME, sha256: sha256Hex(manifestBytes) },
    { path: SIGNATURE_NAME, sha256: sha256Hex(signatureBytes) },
    { path: PUBLIC_KEY_NAME, sha256: sha256Hex(publicKeyBytes) },
  ]);
  zip.addBuffer(sums, SUMS_NAME, { mtime });
  zip.addBuffer(sign(null, sums, input.privateKey), SUMS_SIGNATURE_NAME, { mtime });
  zip.end();
  await Promise.race([written, failed]);
  return whole.result();
}

export const fileOpener = (path: string) => async () => createReadStream(path) as Readable;
