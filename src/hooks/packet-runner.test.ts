/**
 * TestRunner.packetRunner, the per-packet path under `tsbpf xdp|tc|socket`:
 * it clears only what a run may have written, so each packet must still
 * start from zeroed head- and tailroom, exactly as a fresh test run
 * (TestRunner.run) gives it, even after a program wrote there on an earlier
 * packet; and capture interfaces arrive as ingress_ifindex.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm/index.js';
import { jitEngine } from '../jit/jit-engine.js';
import { interpreterEngine } from '../vm/engine.js';
import { Machine } from '../vm/machine.js';
import { prepareProgram } from '../vm/prepared-program.js';
import { HookContexts } from './contexts.js';
import { helpersForType } from './type-helpers.js';
import { progTypeId } from './program-types.js';
import { TestRunner } from './test-run.js';

/**
 * Grows the head by 16 and the tail by 32 bytes, returns XDP_PASS when the
 * first 8 bytes of the new head and the last 8 of the new tail are zero
 * (XDP_DROP otherwise), then fills both with 0xff for the next packet to find.
 */
const GROW_AND_SCRIBBLE = `
r6 = r1
r2 = -16
call bpf_xdp_adjust_head
r1 = r6
r2 = 32
call bpf_xdp_adjust_tail
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r3 += -8
r7 = *(u64 *)(r2 + 0)
r8 = *(u64 *)(r3 + 0)
r7 |= r8
r9 = -1
*(u64 *)(r2 + 0) = r9
*(u64 *)(r3 + 0) = r9
r0 = 2
if r7 == 0 goto +1
r0 = 1
exit`;

/** tc: grows the tail by 32 bytes (bpf_skb_change_tail), TC_ACT_OK when its last 8 bytes are zero (TC_ACT_SHOT otherwise), then fills them with 0xff. */
const SKB_GROW_AND_SCRIBBLE = `
r6 = r1
r2 = *(u32 *)(r6 + 0)
r2 += 32
r3 = 0
call bpf_skb_change_tail
r3 = *(u32 *)(r6 + 80)
r3 += -8
r8 = *(u64 *)(r3 + 0)
r9 = -1
*(u64 *)(r3 + 0) = r9
r0 = 0
if r8 == 0 goto +1
r0 = 2
exit`;

/** Returns ingress_ifindex. */
const INGRESS = 'r0 = *(u32 *)(r1 + 12)\nexit';

function frame(len: number, fill: number): Uint8Array {
  const f = new Uint8Array(len).fill(fill);
  if (len >= 14) f.set([0x08, 0x00], 12);
  return f;
}

function setup(asm: string, typeName = 'xdp'): { runner: TestRunner; prog: ReturnType<typeof prepareProgram>; type: number } {
  const contexts = new HookContexts();
  const runner = new TestRunner(new Machine(), contexts);
  const type = progTypeId(typeName);
  return { runner, prog: prepareProgram(assemble(asm).bytes, { helpers: helpersForType(type, contexts) }), type };
}

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('packet runner (%s)', (_n, engine) => {
  for (const checked of [false, true]) {
    it(`every packet starts from zeroed head- and tailroom, as a fresh test run (${checked ? 'checked' : 'unchecked'})`, () => {
      const frames = [frame(60, 0x11), frame(200, 0x22), frame(40, 0x33), frame(60, 0x44), frame(14, 0x55), frame(1500, 0x66), frame(64, 0x77)];
      const fast = setup(GROW_AND_SCRIBBLE);
      const packets = fast.runner.packetRunner(fast.prog, fast.type, engine, { checked });
      for (const f of frames) {
        const retval = packets.run(f);
        const out = packets.packet().slice();
        const fresh = setup(GROW_AND_SCRIBBLE);
        const expected = fresh.runner.run(fresh.prog, fresh.type, engine, { dataIn: f, checked });
        expect(retval).toBe(2);
        expect([retval, Array.from(out)]).toEqual([expected.retval, Array.from(expected.dataOut)]);
        expect(out.length).toBe(f.length + 48);
        expect(Array.from(out.subarray(16, 16 + f.length))).toEqual(Array.from(f));
      }
    });
  }

  it('tc: every packet starts from a zeroed tailroom too', () => {
    const frames = [frame(60, 0x11), frame(300, 0x22), frame(40, 0x33), frame(100, 0x44), frame(300, 0x55)];
    const fast = setup(SKB_GROW_AND_SCRIBBLE, 'sched_cls');
    const packets = fast.runner.packetRunner(fast.prog, fast.type, engine, { checked: false });
    for (const f of frames) {
      const retval = packets.run(f);
      const fresh = setup(SKB_GROW_AND_SCRIBBLE, 'sched_cls');
      const expected = fresh.runner.run(fresh.prog, fresh.type, engine, { dataIn: f, checked: false });
      expect([retval, Array.from(packets.packet())]).toEqual([0, Array.from(expected.dataOut)]);
    }
  });

  it('the capture interface is ingress_ifindex; frames the test run refuses throw before the program runs', () => {
    const s = setup(INGRESS);
    const packets = s.runner.packetRunner(s.prog, s.type, engine, { checked: false });
    expect([packets.run(frame(60, 0)), packets.run(frame(60, 0), 3), packets.run(frame(60, 0))]).toEqual([1, 3, 1]);
    expect(() => packets.run(frame(13, 0))).toThrow('XDP frame of 13 bytes is shorter than an Ethernet header (14)');
  });
});
