/**
 * Asks the running kernel how it types the context arguments of iterator
 * programs (`bpf_iter_reg.ctx_arg_info`): for each iterator target in
 * /sys/kernel/btf/vmlinux (a `bpf_iter_T` function with its `bpf_iter__T`
 * context struct), a program loaded for it reads each pointer member and
 * the level-2 log gives the register type. Prints the table that
 * src/verifier/attach.ts keeps as ITER_CTX_ARGS. Run as root:
 * `npx tsx scripts/probe-verifier-tracing.ts`.
 */
import { readFileSync } from 'node:fs';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import { parseBtf } from '../src/loader/btf.js';

const probe = kernelAvailable();
if (!probe.ok) {
  console.error(probe.reason);
  process.exit(1);
}
const btf = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'), { name: 'vmlinux' });

function insn(code: number, dst: number, src: number, off: number, imm: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b.toString('hex');
}

const FLAGS: Record<string, string> = { trusted_: 'F.TRUSTED', rcu_: 'F.RCU', untrusted_: 'F.UNTRUSTED', rdonly_: 'F.RDONLY' };

function typeExpr(s: string): string {
  // "trusted_ptr_or_null_task_struct(id=1)", "rdonly_buf_or_null(id=1)", "ptr_or_null_file(id=1)", "scalar()"
  let rest = s.replace(/\(.*$/, '');
  const parts: string[] = [];
  for (;;) {
    const f = Object.keys(FLAGS).find((k) => rest.startsWith(k));
    if (!f) break;
    parts.push(FLAGS[f]!);
    rest = rest.slice(f.length);
  }
  if (rest.startsWith('ptr_')) parts.unshift('T.BTF_ID');
  else if (rest.startsWith('buf')) parts.unshift('T.BUF');
  else return 'T.SCALAR';
  if (/or_null/.test(rest)) parts.push('F.MAYBE_NULL');
  return parts.join(' | ');
}

const lines: string[] = [];
for (const id of [...Array(200000).keys()]) {
  const t = btf.tryType(id);
  if (!t) break;
  if (t.kind !== 'FUNC' || !t.name.startsWith('bpf_iter_') || t.name.startsWith('bpf_iter__')) continue;
  const target = t.name.slice('bpf_iter_'.length);
  const ctx = btf.idsByName(`bpf_iter__${target}`).map((i) => btf.typeById(i)).find((x) => x.kind === 'STRUCT');
  if (!ctx || ctx.kind !== 'STRUCT') continue;
  const members = ctx.members.filter((m) => m.bitOffset >= 64 && m.bitOffset % 64 === 0);
  const reqs = members.map((m) => ({
    cmd: 'verify' as const, prog_type: 'tracing', expected_attach_type: 'trace_iter', attach_btf_id: id, log_level: 2,
    insns: insn(0x79, 2, 1, m.bitOffset / 8, 0) + insn(0xb7, 0, 0, 0, 0) + insn(0x95, 0, 0, 0, 0),
  }));
  if (!reqs.length) continue;
  const replies = ask(reqs);
  const args: string[] = [];
  let refused = '';
  members.forEach((m, i) => {
    const log = String(replies[i]!.log ?? '');
    const r2 = /R2=([^ \n]+)/.exec(log);
    if (!r2) {
      refused = log.split('\n').filter((l) => l && !/^func#|processed/.test(l)).pop() ?? `errno ${replies[i]!.error}`;
      return;
    }
    if (!/^scalar/.test(r2[1]!)) args.push(`{ off: ${m.bitOffset / 8}, type: ${typeExpr(r2[1]!)} }`);
  });
  if (refused) console.error(`${target}: refused (${refused})`);
  else lines.push(`  ${target}: [${args.join(', ')}],`);
}
console.log(lines.join('\n'));
