import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/**
 * Where a callback may not go unless allowed: the machine itself, private
 * and internal networks, link-local (cloud metadata at 169.254.169.254 and
 * fd00:ec2::254), unspecified, multicast and reserved addresses. An IPv4
 * address written as IPv6 (::ffff:a.b.c.d, NAT64's 64:ff9b::/96) is checked
 * as the IPv4 address it carries.
 */
const REFUSED: ReadonlyArray<readonly [address: string, prefix: number, family: Family, kind: string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const REFUSED_RANGES = REFUSED.map(([address, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(address, prefix, family);
  return { list, kind };
});

/** A callback refused for where it would go (thrown by the lookup, so a delivery can tell it from a network failure). */
export class CallbackTargetRefused extends Error {
  constructor(readonly reason: string) {
    super(`callback target refused: ${reason}`);
    this.name = 'CallbackTargetRefused';
  }
}

/**
 * Which callback URLs deferred calls may be delivered to (SSRF): http(s)
 * only, and no host that is, or resolves to, an address of the ranges above,
 * unless `allow` lists it. Delivery resolves the host, checks every address
 * and connects to a checked one (`lookup`), so a name that resolves elsewhere
 * later (DNS rebinding) is refused at delivery too.
 */
export class CallbackTargets {
  /** Every http(s) URL (the library's default; an app with tenants restricts them). */
  static readonly ANY = new CallbackTargets(['*']);

  private readonly any: boolean;
  private readonly hosts = new Set<string>();
  private readonly allowed = new BlockList();

  /**
   * `allow`: host names, addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`)
   * reached anyway; `*` turns the check off. An entry that is none of these
   * throws, naming it.
   */
  constructor(allow: readonly string[]) {
    this.any = allow.includes('*');
    for (const entry of allow) {
      if (entry === '*') continue;
      const [address, prefix, ...rest] = entry.split('/');
      const family = familyOf(unbracket(address!));
      if (family !== undefined && rest.length === 0 && (prefix === undefined || /^\d{1,3}$/.test(prefix))) {
        const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
        if (bits <= (family === 'ipv4' ? 32 : 128)) {
          this.allowed.addSubnet(unbracket(address!), bits, family);
          continue;
        }
      }
      if (prefix === undefined && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(entry)) {
        this.hosts.add(hostKey(entry));
        continue;
      }
      throw new Error(`"${entry}" is not a host name, an IP address or a CIDR`);
    }
  }

  /** Why a connection to `address` is refused (e.g. "10.1.2.3 (private)"); undefined when it may go there. */
  addressRefusal(address: string): string | undefined {
    if (this.any) return undefined;
    const family = familyOf(address);
    if (family === undefined) return `${address} (not an IP address)`;
    const checked = family === 'ipv6' ? (nat64Ipv4(address) ?? address) : address;
    const checkedFamily = familyOf(checked)!;
    if (this.allowed.check(checked, checkedFamily) || (checked !== address && this.allowed.check(address, family))) return undefined;
    const range = REFUSED_RANGES.find((r) => r.list.check(checked, checkedFamily));
    return range === undefined ? undefined : `${address} (${range.kind})`;
  }

  /** Why `url` may not be a callback target, as far as is known without resolving its host (its scheme, an address in it). */
  refusal(url: URL): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http or https`;
    if (this.any || this.hosts.has(hostKey(url.hostname))) return undefined;
    const host = unbracket(url.hostname);
    return familyOf(host) === undefined ? undefined : this.addressRefusal(host);
  }

  /** Why `url` may not be a callback target once its host is resolved: every address it resolves to is checked (one that does not resolve is refused). */
  async resolvedRefusal(url: URL): Promise<string | undefined> {
    const early = this.refusal(url);
    if (early !== undefined || this.any || familyOf(unbracket(url.hostname)) !== undefined || this.hosts.has(hostKey(url.hostname))) return early;
    try {
      await new Promise<void>((resolve, reject) => this.lookup(url.hostname, { all: true }, (err) => (err ? reject(err) : resolve())));
      return undefined;
    } catch (err) {
      return err instanceof CallbackTargetRefused ? err.reason : `${url.hostname} does not resolve`;
    }
  }

  /**
   * `net.connect`'s `lookup` for deliveries: resolves the host and fails with
   * CallbackTargetRefused if any address it resolves to is refused; else
   * hands on the addresses, so the connection goes to one just checked.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      if (!this.any && !this.hosts.has(hostKey(hostname))) {
        for (const { address } of addresses) {
          const refused = this.addressRefusal(address);
          if (refused !== undefined) return callback(new CallbackTargetRefused(`${hostname} resolves to ${refused}`) as NodeJS.ErrnoException, '', 0);
        }
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

const unbracket = (host: string): string => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** A host name as the allow list compares it: lower case, without a trailing dot. */
const hostKey = (host: string): string => host.toLowerCase().replace(/\.$/, '');

const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** The IPv4 address a NAT64 (64:ff9b::/96) address carries (::ffff:a.b.c.d is checked as IPv4 by BlockList itself). */
function nat64Ipv4(address: string): string | undefined {
  if (!NAT64.check(address, 'ipv6')) return undefined;
  const groups = expandIpv6(address);
  const hi = groups[6]!;
  const lo = groups[7]!;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function expandIpv6(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
