/** `tsbpf demo` (what `npm start` runs): every step runs, with hand-checked results. */
import { describe, expect, it } from 'vitest';
import { tsbpf } from '../support/cli.js';

describe('tsbpf demo', () => {
  it('assembles, runs the samples and the example objects, and streams the sample capture', { timeout: 120_000 }, () => {
    const r = tsbpf('demo');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('20! = 2432902008176640000');
    expect(r.stdout).toContain('ring buffer after 3 packets: 2 records (one per SYN)');
    // samples/traffic.pcap: the 27 example frames four times; global_config drops telnet (port 23), one frame in 27
    expect(r.stdout).toContain('108 packets of a pcap capture (maps kept between packets, the JIT): XDP_PASS 104, XDP_DROP 4');
  });
});
