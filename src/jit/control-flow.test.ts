/** The control-flow analysis and the choice of translation, on small hand-made graphs. */
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm/index.js';
import { prepareProgram } from '../vm/prepared-program.js';
import { buildGraph, loopBlocks } from './control-flow.js';
import { compileToWasm } from './index.js';

function graph(src: string) {
  const prog = prepareProgram(assemble(src).bytes);
  return { prog, g: buildGraph(prog.bySlot, 0, prog.slots) };
}

describe('control-flow graphs', () => {
  it('a diamond is reducible, has one merge node and no loop', () => {
    const { prog, g } = graph('if r1 > 5 goto a\nr0 = 1\ngoto m\na:\nr0 = 2\nm:\nexit\n');
    expect(g.reducible).toBe(true);
    expect([...g.mergeNodes].filter(Boolean)).toHaveLength(1);
    expect([...g.loopHeaders].filter(Boolean)).toHaveLength(0);
    const stats = compileToWasm(prog).stats;
    expect(stats).toMatchObject({ loops: 0, dispatchFunctions: 0 });
  });

  it('a counted loop becomes one Wasm loop; its blocks are marked as loop blocks', () => {
    const { prog, g } = graph('r0 = 0\nr1 = 10\nl:\nr0 += r1\nr1 -= 1\nif r1 != 0 goto l\nexit\n');
    expect(g.reducible).toBe(true);
    expect([...loopBlocks(g)].filter(Boolean)).toHaveLength(1);
    expect(compileToWasm(prog).stats).toMatchObject({ loops: 1, dispatchFunctions: 0 });
  });

  it('a cycle with two entries is irreducible and takes the dispatch loop', () => {
    const { prog, g } = graph('r0 = 3\nif r1 > 5 goto b\na:\nr0 -= 1\nif r0 s<= 0 goto out\nb:\nr0 -= 1\nif r0 s> 0 goto a\nout:\nexit\n');
    expect(g.reducible).toBe(false);
    expect(compileToWasm(prog).stats).toMatchObject({ dispatchFunctions: 1 });
  });

  it('unreachable blocks are left out', () => {
    const { g } = graph('r0 = 1\nexit\nr0 = 2\nexit\n');
    expect(g.blocks).toHaveLength(2);
    expect(g.rpo).toEqual([0]);
  });
});
