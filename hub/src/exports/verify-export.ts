import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  type ExportManifest,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  PUBLIC_KEY_NAME,
  sha256Sums,
  SIGNATURE_NAME,
  SUMS_NAME,
  SUMS_SIGNATURE_NAME,
} from './export-archive.js';
import { openZipEntry, readZipEntries, readZipEntry, type ZipEntry } from './zip-reader.js';

export interface ExportVerification {
  ok: boolean;
  /** The manifest, once its signature checked out (null when it could not be trusted). */
  manifest: ExportManifest | null;
  filesChecked: number;
  problems: string[];
}

const keyIdOf = (key: KeyObject) => {
  const der = key.export({ format: 'der', type: 'spki' });
  return createHash('sha256')
    .update(der.subarray(der.length - 32))
    .digest('hex');
};

/**
 * Checks an evidence archive against a trusted public key: the manifest's Ed25519 signature, then the SHA-256 and
 * size of every file it lists, and that the archive holds nothing it does not list. The key inside the archive is
 * a convenience for the reader, never trusted here.
 */
export async function verifyExport(zipPath: string, trustedKey: KeyObject): Promise<ExportVerification> {
  const problems: string[] = [];
  const entries = await readZipEntries(zipPath);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) problems.push(`${e.name} appears twice in the archive`);
    byName.set(e.name, e);
  }
  const manifestEntry = byName.get(MANIFEST_NAME);
  const sigEntry = byName.get(SIGNATURE_NAME);
  if (!manifestEntry || !sigEntry) {
    return { ok: false, manifest: null, filesChecked: 0, problems: ['manifest.json or manifest.sig is missing'] };
  }
  const manifestBytes = await readZipEntry(zipPath, manifestEntry, 512 * 1024 * 1024);
  const signature = Buffer.from((await readZipEntry(zipPath, sigEntry, 4096)).toString('utf8').trim(), 'base64');
  if (!verify(null, manifestBytes, trustedKey, signature)) {
    return {
      ok: false,
      manifest: null,
      filesChecked: 0,
      problems: [
        'the manifest signature does not match the trusted hub key: the manifest was altered or signed by another key',
      ],
    };
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ExportManifest;
  if (manifest.format !== MANIFEST_FORMAT) problems.push(`unknown manifest format ${String(manifest.format)}`);
  if (manifest.hub?.keyId !== keyIdOf(trustedKey)) problems.push('the manifest names another hub key');

  let filesChecked = 0;
  const listed = new Set<string>();
  const digests = new Map<string, string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const entry = byName.get(f.path);
    if (!entry) {
      problems.push(`${f.path}: listed in the manifest but missing from the archive`);
      continue;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of await openZipEntry(zipPath, entry)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const digest = hash.digest('hex');
    digests.set(f.path, digest);
    if (digest !== f.sha256) problems.push(`${f.path}: SHA-256 ${digest} differs from the manifest's ${f.sha256}`);
    else if (bytes !== f.bytes) problems.push(`${f.path}: ${bytes} bytes, the manifest says ${f.bytes}`);
    filesChecked += 1;
  }
  const beside = [MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME, SUMS_NAME, SUMS_SIGNATURE_NAME];
  for (const name of byName.keys()) {
    if (!listed.has(name) && !beside.includes(name)) problems.push(`${name}: in the archive but not in the manifest`);
  }
  problems.push(...(await checkSums(zipPath, byName, trustedKey, manifest, digests)));
  return { ok: problems.length === 0, manifest, filesChecked, problems };
}

/**
 * SHA256SUMS, what people check with stock tools, must say exactly what the signed manifest says: signed by the
 * trusted key, and listing every other file with its real digest. Archives from before SHA256SUMS have neither file.
 */
async function checkSums(
  zipPath: string,
  byName: Map<string, ZipEntry>,
  trustedKey: KeyObject,
  manifest: ExportManifest,
  digests: Map<string, string>,
): Promise<string[]> {
  const sumsEntry = byName.get(SUMS_NAME);
  const sumsSigEntry = byName.get(SUMS_SIGNATURE_NAME);
  if (!sumsEntry && !sumsSigEntry) return [];
  if (!sumsEntry || !sumsSigEntry) return [`${SUMS_NAME} and ${SUMS_SIGNATURE_NAME} come together; one is missing`];
  const sums = await readZipEntry(zipPath, sumsEntry, 64 * 1024 * 1024);
  if (!verify(null, sums, trustedKey, await readZipEntry(zipPath, sumsSigEntry, 4096))) {
    return [`${SUMS_NAME}: the signature does not match the trusted hub key`];
  }
  const rest: { path: string; sha256: string }[] = [];
  for (const name of [MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME]) {
    const entry = byName.get(name);
    if (!entry) return [`${SUMS_NAME}: ${name} is missing from the archive`];
    rest.push({
      path: name,
      sha256: createHash('sha256')
        .update(await readZipEntry(zipPath, entry, 512 * 1024 * 1024))
        .digest('hex'),
    });
  }
  const expected = sha256Sums([
    ...manifest.files.map((f) => ({ path: f.path, sha256: digests.get(f.path) ?? 'missing' })),
    ...rest,
  ]);
  return expected.equals(sums) ? [] : [`${SUMS_NAME}: does not list every file of the archive with its SHA-256`];
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}
