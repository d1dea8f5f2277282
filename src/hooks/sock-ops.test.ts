/**
 * sock_ops runs (test/fixtures/pkt/sockops.c): the context from the bytes
 * given, a fresh socket per run whose options bpf_setsockopt and
 * bpf_getsockopt set and read with Linux's levels, lengths and errors, on
 * both engines. The kernel has no test run for sock_ops; its verdict on the
 * program is in the verifier's object corpus.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jitEngine } from '../jit/jit-engine.js';
import { parseObject } from '../loader/object.js';
import { loadCollection } from '../runtime/collection.js';
import { interpreterEngine } from '../vm/engine.js';

const OBJECT = new URL('../../test/fixtures/pkt/sockops.o', import.meta.url);

function ctx(op: number, family: number, fullsock: boolean): Uint8Array {
  const b = new Uint8Array(224);
  const v = new DataView(b.buffer);
  v.setUint32(0, op, true);
  v.setUint32(20, family, true);
  v.setUint32(72, fullsock ? 1 : 0, true);
  return b;
}

function run(c: Uint8Array, engine: typeof interpreterEngine) {
  const col = loadCollection(parseObject(new Uint8Array(readFileSync(OBJECT)), { name: 'sockops.o' }));
  const r = col.run(col.program({ name: 'tune' }), { ctxIn: c }, engine);
  const results = Array.from({ length: 16 }, (_, i) => Number(new DataView(col.map('results').lookup(new Uint8Array([i, 0, 0, 0]))!.buffer).getBigInt64(0, true)));
  return { retval: r.retval, results, options: r.socketOptions };
}

const reno = Number(new DataView(new TextEncoder().encode('reno\0\0\0\0').buffer).getBigInt64(0, true));

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('sock_ops socket options (%s)', (_n, engine) => {
  it('sets and reads options of an IPv4 TCP socket', () => {
    const r = run(ctx(3, 2, true), engine);
    expect(r.results).toEqual([3, 0, 0, 65536, 0, 0, reno, -22, 0, 256, 8, -22, 0, 7200, -2, 1]);
    expect(r.options).toEqual({ '1:7': 65536, '6:13': 'reno', '0:1': 16 });
  });

  it('IPv6 sockets take SOL_IPV6, not SOL_IP', () => {
    const r = run(ctx(4, 10, true), engine);
    expect([r.results[7], r.results[8]]).toEqual([0, -22]);
  });

  it('a socket that is not a full socket has no options (EINVAL); ops past WRITE_HDR_OPT_CB may not use them (EOPNOTSUPP)', () => {
    const half = run(ctx(3, 2, false), engine);
    expect([half.results[1], half.results[2], half.results[9]]).toEqual([-22, -22, -22]);
    const late = run(ctx(16, 2, true), engine);
    expect([late.results[1], late.results[2], late.results[9]]).toEqual([-95, -95, -95]);
  });
});
