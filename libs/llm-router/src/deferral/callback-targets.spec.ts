import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallbackTargets } from './callback-targets.js';

const refusal = (targets: CallbackTargets, url: string) => targets.refusal(new URL(url));

describe('CallbackTargets', () => {
  const restricted = new CallbackTargets([]);

  it('refuses loopback, private, link-local (metadata), unspecified, multicast and reserved addresses, however written', () => {
    const refused: Array<[string, RegExp]> = [
      ['http://127.0.0.1/', /loopback/],
      ['http://127.9.9.9/', /loopback/],
      ['http://2130706433/', /loopback/],
      ['http://0x7f.1/', /loopback/],
      ['http://[::1]/', /loopback/],
      ['http://[::ffff:127.0.0.1]/', /loopback/],
      ['http://10.0.0.1/', /private/],
      ['http://172.16.0.1/', /private/],
      ['http://172.31.255.255/', /private/],
      ['http://192.168.1.1/', /private/],
      ['http://[fc00::1]/', /private/],
      ['http://[fd00:ec2::254]/', /private/],
      ['http://[64:ff9b::10.0.0.1]/', /private/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://[fe80::1]/', /link-local/],
      ['http://0.0.0.0/', /unspecified/],
      ['http://[::]/', /unspecified/],
      ['http://224.0.0.1/', /multicast/],
      ['http://[ff02::1]/', /multicast/],
      ['http://255.255.255.255/', /reserved/],
      ['http://100.64.0.1/', /carrier-grade NAT/],
      ['ftp://example.com/', /not http or https/],
      ['file:///etc/passwd', /not http or https/],
    ];
    for (const [url, kind] of refused) assert.match(refusal(restricted, url) ?? 'allowed', kind, url);
  });

  it('lets public addresses through, and leaves a host name to be resolved', () => {
    for (const url of ['http://8.8.8.8/', 'https://1.1.1.1:8443/hook', 'http://172.32.0.1/', 'http://[2606:4700::1111]/', 'http://[64:ff9b::8.8.8.8]/', 'https://hooks.example.com/x']) {
      assert.equal(refusal(restricted, url), undefined, url);
    }
  });

  it('lets through the hosts, addresses and CIDRs it is told to allow; * turns the check off', () => {
    const allowing = new CallbackTargets(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'Hooks.Internal']);
    for (const url of ['http://127.0.0.1:9000/', 'http://10.20.30.40/', 'http://[fd12::1]/', 'http://hooks.internal/', 'http://HOOKS.internal./']) assert.equal(refusal(allowing, url), undefined, url);
    assert.match(refusal(allowing, 'http://127.0.0.2/') ?? '', /loopback/);
    assert.match(refusal(allowing, 'http://192.168.0.1/') ?? '', /private/);
    const off = new CallbackTargets(['*']);
    assert.equal(refusal(off, 'http://169.254.169.254/'), undefined);
    assert.match(refusal(off, 'gopher://x/') ?? '', /not http or https/);
  });

  it('a name is checked by every address it resolves to', async () => {
    assert.match((await restricted.resolvedRefusal(new URL('http://localhost:8080/'))) ?? '', /^localhost resolves to .*loopback/);
    assert.equal(await new CallbackTargets(['localhost']).resolvedRefusal(new URL('http://localhost:8080/')), undefined);
    assert.match((await restricted.resolvedRefusal(new URL('http://no-such-host.invalid/'))) ?? '', /does not resolve/);
  });

  it('refuses an allow entry that is not a host name, an address or a CIDR', () => {
    for (const entry of ['10.0.0.0/33', 'fd00::/129', 'a b', 'http://x', '10.0.0.0/8/1', '']) {
      assert.throws(() => new CallbackTargets([entry]), /not a host name, an IP address or a CIDR/, entry);
    }
  });
});
