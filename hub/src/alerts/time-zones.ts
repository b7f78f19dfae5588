import { ConfigError } from '../errors.js';
import { isKnownTimeZone } from './schedule.js';

/** Parses SITE_TIME_ZONES ("site=Zone,…") into a lookup with a default; unknown zones are configuration errors. */
export function siteTimeZones(defaultZone: string, spec: string | undefined): (site: string) => string {
  const problems: string[] = [];
  if (!isKnownTimeZone(defaultZone)) problems.push(`ALERT_TIME_ZONE: unknown time zone "${defaultZone}"`);
  const zones = new Map<string, string>();
  for (const pair of (spec ?? '').split(',').filter((p) => p.trim())) {
    const [site, zone] = pair.split('=').map((s) => s.trim());
    if (!site || !zone) problems.push(`SITE_TIME_ZONES: "${pair}" is not site=Zone`);
    else if (!isKnownTimeZone(zone)) problems.push(`SITE_TIME_ZONES: unknown time zone "${zone}" for ${site}`);
    else zones.set(site, zone);
  }
  if (problems.length) throw new ConfigError(problems);
  return (site) => zones.get(site) ?? defaultZone;
}
