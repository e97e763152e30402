/**
 * Which URLs a webhook may point at: http(s) only, and, when asked, no loopback, private, link-local or otherwise
 * internal address (so an API user cannot make the bridge call into the network it runs in).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const internal = new BlockList();
// IPv4: this network, private, CGNAT, loopback, link-local, IETF protocol, TEST-NETs, benchmarking, multicast, reserved.
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(net, prefix, 'ipv4');
// IPv6: unspecified, loopback, IPv4-mapped (checked again as IPv4 below), unique local, link-local, multicast.
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(net, prefix, 'ipv6');

/** True for an address a public webhook should never resolve to. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return internal.check(mapped[1], 'ipv4');
    return internal.check(address, 'ipv6');
  }
  return false;
}

/** Why a URL was refused (the API puts it in `details[].message` for the `url` field). */
export class WebhookUrlError extends Error {}

/**
 * Checks a webhook URL; throws `WebhookUrlError` with a message for the user. With `refuseInternal`, every address the
 * host name resolves to must be public. `resolve` is injectable for tests.
 */
export async function checkWebhookUrl(
  text: string,
  options: { refuseInternal: boolean; resolve?: (host: string) => Promise<string[]> },
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError('must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WebhookUrlError(`scheme ${url.protocol.replace(':', '')} is not allowed: use http or https`);
  if (url.hash) throw new WebhookUrlError('must not have a #fragment');
  if (!options.refuseInternal) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const resolve =
    options.resolve ?? (async (h: string) => (await lookup(h, { all: true, verbatim: true })).map((a) => a.address));
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    throw new WebhookUrlError(`host ${host} does not resolve`);
  }
  const bad = addresses.find(isInternalAddress);
  if (bad !== undefined)
    throw new WebhookUrlError(
      `host ${host} is a loopback or private address (${bad}); this bridge refuses those (BRIDGE_WEBHOOK_ALLOW_PRIVATE=true allows them)`,
    );
  return url;
}
