import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { openZipEntry, readZipEntries, readZipEntry, ZipFormatError } from './zip-reader.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zip-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function zipOf(path: string, files: Record<string, Buffer>) {
  const zip = new ZipFile();
  for (const [name, bytes] of Object.entries(files)) zip.addBuffer(bytes, name, { compress: true });
  zip.end();
  const out = createWriteStream(path);
  (zip.outputStream as NodeJS.ReadableStream).pipe(out);
  await once(out, 'close');
}

/** Rewrites the uncompressed size every central directory record claims for `name` (no ZIP64 here). */
async function claimSize(path: string, name: string, size: number) {
  const buf = await readFile(path);
  for (let p = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); p >= 0;) {
    const nameLen = buf.readUInt16LE(p + 28);
    if (buf.toString('utf8', p + 46, p + 46 + nameLen) === name) buf.writeUInt32LE(size, p + 24);
    p = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), p + 46);
  }
  await writeFile(path, buf);
}

describe('zip reader', () => {
  it('reads what yazl wrote', async () => {
    const path = join(dir, 'plain.zip');
    await zipOf(path, { 'a.txt': Buffer.from('hello '.repeat(100)) });
    const [entry] = await readZipEntries(path);
    expect((await readZipEntry(path, entry!, 4096)).toString()).toBe('hello '.repeat(100));
  });

  it('stops inflating at the cap when an entry claims a small size and inflates large', async () => {
    // 64 MiB of zeros deflate to about 64 KB; the central directory is then edited to claim 100 bytes.
    const path = join(dir, 'bomb.zip');
    await zipOf(path, { 'manifest.sig': Buffer.alloc(64 * 1024 * 1024) });
    await claimSize(path, 'manifest.sig', 100);
    const [entry] = await readZipEntries(path);
    expect(entry!.size).toBe(100);
    // The outcome as a length or an error: a 64 MiB buffer in a failure message would take the reporter minutes.
    const outcome = await readZipEntry(path, entry!, 4096).then(
      (b) => b.length,
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(ZipFormatError);
  });

  it('refuses a stream that inflates beyond the size the entry claims', async () => {
    const path = join(dir, 'lie.zip');
    await zipOf(path, { 'events.csv': Buffer.alloc(1024 * 1024, 'x') });
    await claimSize(path, 'events.csv', 1000);
    const [entry] = await readZipEntries(path);
    let bytes = 0;
    const read = async () => {
      for await (const chunk of await openZipEntry(path, entry!)) bytes += (chunk as Buffer).length;
    };
    await expect(read()).rejects.toBeInstanceOf(ZipFormatError);
    expect(bytes).toBeLessThanOrEqual(1000);
  });

  it('refuses an entry shorter than it claims', async () => {
    const path = join(dir, 'short.zip');
    await zipOf(path, { 'events.json': Buffer.from('[]\n') });
    await claimSize(path, 'events.json', 50);
    const [entry] = await readZipEntries(path);
    await expect(readZipEntry(path, entry!, 4096)).rejects.toBeInstanceOf(ZipFormatError);
  });
});
