/** Runs raw program bytes as XDP in tsbpf the way BPF_PROG_TEST_RUN does, for differential tests. */
import { XdpContext } from '../../src/hooks/xdp.js';
import { helperTable } from '../../src/vm/helpers/index.js';
import type { Helper } from '../../src/vm/helper-call.js';
import { interpret } from '../../src/vm/interpreter.js';
import { Machine } from '../../src/vm/machine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';

/** Result of one run: return value (u32 as the kernel reports it) and the packet after the run. */
export interface XdpRunResult {
  retval: number;
  dataOut: Uint8Array;
}

/** Runs `bytes` on `packet` in a fresh machine with every vm helper (plus `extra`). */
export function runXdp(bytes: Uint8Array, packet: Uint8Array, extra: Helper[] = []): XdpRunResult {
  const machine = new Machine({ helpers: helperTable({}, extra) });
  const xdp = new XdpContext(machine);
  xdp.load(packet);
  const result = interpret(machine, prepareProgram(bytes, { helpers: machine.helpers }), { args: [xdp.ctx.start] });
  return { retval: Number(result.r0 & 0xffffffffn), dataOut: xdp.dataOut() };
}
