/**
 * Verifier logs carry the kernel's source annotations from BTF line info
 * (`; <source line> @ <file>:<line>` before the instructions a line
 * produced): tsbpf's logs at levels 1 and 2 are compared line by line with
 * the kernel's, recorded by scripts/record-source-lines.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../src/loader/index.js';
import { kernelErrorLine, verifyObjectProgram } from '../../src/verifier/index.js';

interface RecordedLog { file: string; program: string; level: 1 | 2; accepted: boolean; log: string }

const root = new URL('../../', import.meta.url);
const recorded = JSON.parse(readFileSync(new URL('test/fixtures/verifier/source-lines.json', root), 'utf8')) as { kernel: string; logs: RecordedLog[] };

/**
 * What both logs are compared on: kernel map addresses masked, and without
 * the lines tsbpf does not print (the liveness debug lines of level 2, the
 * statistics of log level 4 the recording asked for).
 */
function comparable(log: string): string[] {
  return log.split('\n')
    .filter((l) => !/^\([0-9,]+\) (frame \d+ insn|live stack update)|^verification time|^stack depth /.test(l))
    .map((l) => l.replace(/0xffff[0-9a-f]{12}/g, 'ADDR'));
}

describe('source line annotations in verifier logs', () => {
  it('the recording has annotated logs at both levels, accepted and rejected', () => {
    // at level 1 an accepted program's log is only its statistics
    const shown = recorded.logs.filter((r) => r.level === 2 || !r.accepted);
    expect(shown.filter((r) => / @ [a-z_]+\.c:\d+$/m.test(r.log))).toEqual(shown);
    expect(new Set(recorded.logs.map((r) => r.level))).toEqual(new Set([1, 2]));
    expect(recorded.logs.some((r) => !r.accepted)).toBe(true);
  });

  for (const r of recorded.logs) {
    it(`${r.file} ${r.program}, log level ${r.level}: the kernel's log`, () => {
      const object = parseObject(readFileSync(new URL(r.file, root)), { name: r.file });
      const program = object.programs.find((p) => p.name === r.program)!;
      const result = verifyObjectProgram(object, program, { logLevel: r.level });
      expect(result.accepted).toBe(r.accepted);
      expect(comparable(result.log)).toEqual(comparable(r.log));
      if (!r.accepted) expect(result.error).toBe(kernelErrorLine(comparable(r.log).join("\n")));
    });
  }

  it('a program without line info logs no annotations', () => {
    const object = parseObject(readFileSync(new URL('examples/proto_count.o', root)), { name: 'proto_count.o' });
    const program = { ...object.programs[0]!, lineInfo: [] };
    const log = verifyObjectProgram(object, program, { logLevel: 2 }).log;
    expect(log).toContain('0: (61) r7 = *(u32 *)(r1 +4)');
    expect(log).not.toMatch(/^; /m);
  });

  it('the error line skips a source line printed after the message', () => {
    expect(kernelErrorLine('0: (61) r0 = *(u32 *)(r1 +36)\ninvalid bpf_context access off=36 size=4\n; return p[9]; @ x.c:7\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n'))
      .toBe('invalid bpf_context access off=36 size=4');
  });
});
