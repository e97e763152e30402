/** Defaults that are derived from other settings (CONTRACT section 3). */

/** Site ids are `[a-z0-9][a-z0-9-]*`. */
export const SITE_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** The default site: the source database name, lower-cased, characters outside the pattern turned into `-`. */
export function siteFromDatabase(database: string): string {
  let site = database.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  // The first character must be a letter or digit; a leading '-' (from '_openmrs', say) would not match the pattern.
  site = site.replace(/^-+/, '');
  return site || 'openmrs';
}

export const SERVER_ID_MIN = 1_000_000;
export const SERVER_ID_MAX = 4_000_000_000;

/**
 * The default replica server id: FNV-1a of the site mapped into 1,000,000..4,000,000,000, so it is stable across
 * restarts and differs between sites that share a source server.
 */
export function serverIdFromSite(site: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(site, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return SERVER_ID_MIN + (hash % (SERVER_ID_MAX - SERVER_ID_MIN + 1));
}

/** The default state database: the source server and credentials, database `openmrs_event_bridge`. */
export function stateUrlFromSource(sourceUrl: string): string {
  const url = new URL(sourceUrl);
  url.pathname = '/openmrs_event_bridge';
  return url.toString();
}

/** True for hosts that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
