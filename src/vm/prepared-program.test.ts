/** prepareProgram's refusals name what user space cannot run and where. */
import { describe, expect, it } from 'vitest';
import { VmError } from '../errors.js';
import { prepareProgram } from './prepared-program.js';

/** `r0 = 0; call kfunc #id; exit` (a kfunc call: src 2). */
function kfuncProgram(id: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  b[0] = 0xb7; // r0 = 0
  b[8] = 0x85; // call
  b[9] = 2 << 4;
  v.setInt32(12, id, true);
  b[16] = 0x95; // exit
  return b;
}

describe('prepareProgram', () => {
  it('refuses a kfunc call at its instruction, with the kfunc\'s name when the loader knows it', () => {
    expect(() => prepareProgram(kfuncProgram(65104))).toThrow(VmError);
    expect(() => prepareProgram(kfuncProgram(65104))).toThrow('kfunc call (BTF id 65104) is not supported in user space');
    try {
      prepareProgram(kfuncProgram(65104), { kfuncName: (slot) => (slot === 1 ? 'bpf_skb_ct_lookup' : undefined) });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(VmError);
      expect((err as VmError).reason).toBe('kfunc call of bpf_skb_ct_lookup (BTF id 65104) is not supported in user space');
      expect((err as VmError).location.insn).toBe(1);
    }
  });
});
