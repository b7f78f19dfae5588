import { ConfigError } from '../errors.js';

/** Parses SITE_NAMES ("td-01=Trường Tân Dân,hn-02=Kho Hà Nội") into a lookup: the site's name for people, else its id. */
export function siteNames(spec: string | undefined): (site: string) => string {
  const names = new Map<string, string>();
  const problems: string[] = [];
  for (const pair of (spec ?? '').split(',').filter((p) => p.trim())) {
    const eq = pair.indexOf('=');
    const site = pair.slice(0, eq).trim();
    const name = pair.slice(eq + 1).trim();
    if (eq < 1 || !site || !name) problems.push(`SITE_NAMES: "${pair}" is not site=Name`);
    else names.set(site, name);
  }
  if (problems.length) throw new ConfigError(problems);
  return (site) => names.get(site) ?? site;
}
