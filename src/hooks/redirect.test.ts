/**
 * Redirect targets tsbpf reports that the kernel's test run cannot show:
 * AF_XDP sockets in XSK maps, devmap entries with programs, and the checks
 * user space meets filling these maps (the kernel comparisons are in
 * test/kernel/packet-helpers-vs-kernel.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm/index.js';
import { jitEngine } from '../jit/jit-engine.js';
import { interpreterEngine } from '../vm/engine.js';
import { Machine } from '../vm/machine.js';
import { XskSockets } from '../vm/maps/devmap.js';
import { MapError } from '../vm/maps/types.js';
import { prepareProgram } from '../vm/prepared-program.js';
import { HookContexts } from './contexts.js';
import { helpersForType } from './type-helpers.js';
import { NetNamespace } from './net.js';
import { progTypeId } from './program-types.js';
import { TestRunner } from './test-run.js';
import { MapType } from '../isa/uapi.js';

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const u64 = (a: number, b: number) => new Uint8Array(new Uint32Array([a, b]).buffer);
const FRAME = new Uint8Array(60);

function setup() {
  const machine = new Machine({ possibleCpus: 2 });
  const contexts = new HookContexts();
  contexts.net = NetNamespace.fromObject({ interfaces: [{ ifindex: 2, name: 'eth0', addresses: ['10.0.0.1/24'] }] });
  const runner = new TestRunner(machine, contexts);
  const xdp = progTypeId('xdp');
  const prepare = (asm: string) => prepareProgram(assemble(asm).bytes, { helpers: helpersForType(xdp, contexts) });
  return { machine, runner, xdp, prepare };
}

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('redirect maps in tsbpf (%s)', (_n, engine) => {
  it('XSK maps hold AF_XDP sockets: a redirect names the socket and its queue', () => {
    const { machine, runner, xdp, prepare } = setup();
    const xsks = machine.maps.create({ name: 'xsks', type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 4 });
    const socket = XskSockets.of(machine).open(2, 0);
    expect(() => xsks.update(u32(0), u32(99))).toThrow(MapError);
    xsks.update(u32(0), u32(socket.id));
    expect(() => xsks.update(u32(0), u32(socket.id), 1)).not.toThrow(); // the same socket again is not a change
    expect(() => xsks.lookup(u32(0))).toThrow(/EOPNOTSUPP/);
    const prog = prepare(`r2 = *(u32 *)(r1 + 16)\nr1 = ${xsks.address} ll\nr3 = 2\ncall 51\nexit`);
    const r = runner.run(prog, xdp, engine, { dataIn: FRAME });
    expect(r.retval).toBe(4);
    expect(r.redirect).toEqual({ type: 'xskmap', map: 'xsks', key: 0, socket: socket.id, queue: 0, ifindex: 2, device: 'eth0' });
    // A lookup returns the socket, whose queue_id programs may read.
    const look = prepare(`r1 = 0\n*(u32 *)(r10 - 4) = r1\nr1 = ${xsks.address} ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto none\nr0 = *(u32 *)(r0 + 0)\nr0 += 100\nexit\nnone:\nexit`);
    expect(runner.run(look, xdp, engine, { dataIn: FRAME }).retval).toBe(100);
  });

  it('devmap entries take devices of the run\'s network and xdp/devmap programs', () => {
    const { machine, runner, xdp, prepare } = setup();
    const devs = machine.maps.create({ name: 'devs', type: MapType.DEVMAP, keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(devs.flags & 0x80).toBe(0x80); // BPF_F_RDONLY_PROG, as the kernel sets it
    expect(() => devs.update(u32(0), u64(3, 0))).toThrow(/no network device with ifindex 3/);
    const egress = prepare('r0 = 2\nexit');
    const plain = machine.programs.add(egress, { type: xdp, expectedAttachType: 0, xdpHasFrags: false });
    const onDevmap = machine.programs.add(egress, { type: xdp, expectedAttachType: 33, xdpHasFrags: false });
    expect(() => devs.update(u32(0), u64(2, plain))).toThrow(/EINVAL/);
    devs.update(u32(0), u64(2, onDevmap));
    const prog = prepare(`r1 = ${devs.address} ll\nr2 = 0\nr3 = 0\ncall 51\nexit`);
    const r = runner.run(prog, xdp, engine, { dataIn: FRAME });
    expect(r.redirect).toEqual({ type: 'devmap', map: 'devs', key: 0, ifindex: 2, device: 'eth0', program: onDevmap });
  });
});
