/**
 * One BPF_PROG_TEST_RUN of a loaded program with a request's input: data
 * and context in, the return value, duration, data and context out.
 */
import { Errno, ENOTSUPP, errnoText } from '../bpf/errno.js';
import { BpfSyscallError } from '../bpf/syscall-errors.js';
import { testRun } from '../bpf/prog-commands.js';
import { OracleFailure } from './failure.js';
import { hex, intField, parseHex, type Fields } from './fields.js';
import { NO_REPEAT_PROGS, progTypeName } from './oracle-names.js';
import type { OracleRunResult } from './protocol.js';

/** Runs program `progFd` (of type `progType`) once with input `inp`. */
export function runInput(progFd: number, progType: number, inp: Fields): OracleRunResult {
  const ptype = progTypeName(progType);
  const dataIn = parseHex(inp['data_in'], 'data_in');
  const ctxGiven = inp['ctx_in'] !== undefined && inp['ctx_in'] !== null;
  const ctxIn = parseHex(inp['ctx_in'], 'ctx_in');
  const noRepeat = NO_REPEAT_PROGS.has(ptype);
  const repeat = intField(inp, 'repeat', noRepeat ? 0 : 1);
  const dataSizeOut = dataIn.length ? intField(inp, 'data_size_out', dataIn.length + 65536) : 0;
  const ctxSizeOut = ctxGiven && !noRepeat ? intField(inp, 'ctx_size_out', Math.max(ctxIn.length, 4096)) : 0;
  const flags = intField(inp, 'flags', 0);
  const cpu = intField(inp, 'cpu', 0);
  const batchSize = intField(inp, 'batch_size', 0);
  let r;
  try {
    r = testRun({ progFd, dataIn, dataSizeOut, ctxIn, ctxSizeOut, repeat, flags, cpu, batchSize });
  } catch (err) {
    if (!(err instanceof BpfSyscallError)) throw err;
    let hint = '';
    if (err.errno === Errno.EOPNOTSUPP || err.errno === ENOTSUPP) hint = ` (BPF_PROG_TEST_RUN is not supported for ${ptype})`;
    else if (err.errno === Errno.ENOSPC) hint = ' (data_out/ctx_out buffer too small; raise data_size_out)';
    throw new OracleFailure(`BPF_PROG_TEST_RUN failed: ${errnoText(err.errno)}${hint}`, err.errno, 'test_run');
  }
  let ctxOut: string | null = null;
  if (r.ctxOut) ctxOut = hex(r.ctxOut.subarray(0, r.ctxSizeOut));
  else if (ptype === 'syscall' && r.ctxIn) ctxOut = hex(r.ctxIn); // syscall programs write their context back in place
  return {
    retval: r.retval,
    duration_ns: r.duration,
    repeat,
    data_size_out: r.dataOut ? r.dataSizeOut : 0,
    data_out: r.dataOut ? hex(r.dataOut.subarray(0, r.dataSizeOut)) : '',
    ctx_out: ctxOut,
  };
}
