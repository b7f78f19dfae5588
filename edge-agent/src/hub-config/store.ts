import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeSiteConfig, type SiteConfig } from '@camhub/shared';
import { AgentError } from '../errors.js';

export class HubConfigFileError extends AgentError {
  constructor(file: string, detail: string) {
    super('hub_config_unreadable', `${file}: ${detail}`);
  }
}

/**
 * The last good hub configuration on disk (`<dataDir>/hub-config.json`, mode 0600: it holds camera passwords), so
 * a restart or an uplink cut never loses an adoption: the agent runs it before the broker answers.
 */
export class HubConfigStore {
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly site: string,
  ) {
    this.file = join(dataDir, 'hub-config.json');
  }

  /** The stored configuration; null when there is none. A damaged file is an error the caller logs (and ignores). */
  load(): SiteConfig | null {
    let raw: Buffer;
    try {
      raw = readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new HubConfigFileError(this.file, (err as Error).message);
    }
    const decoded = decodeSiteConfig(raw, this.site);
    if (!decoded.ok) throw new HubConfigFileError(this.file, `${decoded.code}: ${decoded.detail}`);
    return decoded.config;
  }

  /** tmp + fsync + rename + fsync(dir): the file holds the old or the new configuration, never a torn one. */
  save(config: SiteConfig): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(config), { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    const dirFd = openSync(dirname(this.file), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }
}
