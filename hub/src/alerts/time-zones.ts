import { ConfigError } from '../errors.js';
import { isKnownTimeZone } from './schedule.js';

/**
 * Parses SITE_TIME_ZONES ("site=Zone,…"), the bootstrap of the sites registry, and checks ALERT_TIME_ZONE (the zone
 * of sites nobody registered); unknown zones are configuration errors, all reported at once.
 */
export function parseSiteTimeZones(defaultZone: string, spec: string | undefined): { id: string; timeZone: string }[] {
  const problems: string[] = [];
  if (!isKnownTimeZone(defaultZone)) problems.push(`ALERT_TIME_ZONE: unknown time zone "${defaultZone}"`);
  const entries: { id: string; timeZone: string }[] = [];
  for (const pair of (spec ?? '').split(',').filter((p) => p.trim())) {
    const [site, zone] = pair.split('=').map((s) => s.trim());
    if (!site || !zone) problems.push(`SITE_TIME_ZONES: "${pair}" is not site=Zone`);
    else if (!isKnownTimeZone(zone)) problems.push(`SITE_TIME_ZONES: unknown time zone "${zone}" for ${site}`);
    else entries.push({ id: site, timeZone: zone });
  }
  if (problems.length) throw new ConfigError(problems);
  return entries;
}
