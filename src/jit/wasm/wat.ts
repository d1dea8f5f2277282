/**
 * The WebAssembly text format of a {@link ModuleBuilder}: flat instructions
 * with indentation for blocks, named functions, locals and globals, and the
 * comments the compiler attached (the BPF instruction each run of code came
 * from). The output parses with wabt's `wat2wasm` (with the threads and
 * tail-call features) into exactly the bytes the encoder produces, less
 * the name section.
 */
import type { Code } from './code.js';
import { packRef } from './code.js';
import type { FuncType, Limits, ModuleBuilder } from './module.js';
import { BLOCK_VOID, Imm, OP, OP_IMM, OP_NAME } from './opcodes.js';

/** Makes `name` a valid, unique WAT identifier within `used`. */
function ident(name: string, used: Set<string>): string {
  let base = name.replace(/[^0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~]/g, '_');
  if (base === '') base = '_';
  let id = base;
  for (let k = 1; used.has(id); k++) id = `${base}.${k}`;
  used.add(id);
  return `$${id}`;
}

function limitsText(l: Limits): string {
  return l.shared ? `${l.min} ${l.max ?? l.min} shared` : l.max !== undefined ? `${l.min} ${l.max}` : `${l.min}`;
}

function typeText(t: FuncType): string {
  const parts: string[] = [];
  if (t.params.length) parts.push(`(param ${t.params.join(' ')})`);
  if (t.results.length) parts.push(`(result ${t.results.join(' ')})`);
  return parts.join(' ');
}

function i64Text(lo: number, hi: number): string {
  return ((BigInt(hi | 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** Prints a module as WAT. */
export function moduleToWat(m: ModuleBuilder): string {
  const out: string[] = ['(module'];
  const funcNames: string[] = [];
  const globalNames: string[] = [];
  const usedFuncs = new Set<string>();
  const usedGlobals = new Set<string>();
  for (const imp of m.imports) {
    if (imp.kind === 'func') funcNames.push(ident(imp.debugName, usedFuncs));
    if (imp.kind === 'global') globalNames.push(ident(imp.debugName, usedGlobals));
  }
  for (const f of m.funcs) funcNames.push(ident(f.name, usedFuncs));
  for (const g of m.globals) globalNames.push(ident(g.name, usedGlobals));
  const fname = (packed: number) => funcNames[m.funcIndex(packed)]!;
  const gname = (packed: number) => globalNames[m.globalIndex(packed)]!;

  m.types.forEach((t, i) => out.push(`  (type (;${i};) (func ${typeText(t)}))`.replace(' ))', '))')));
  let fi = 0;
  let gi = 0;
  for (const imp of m.imports) {
    const head = `  (import "${imp.module}" "${imp.name}"`;
    switch (imp.kind) {
      case 'func': out.push(`${head} (func ${funcNames[fi++]} (type ${imp.type})))`); break;
      case 'memory': out.push(`${head} (memory ${limitsText(imp.limits)}))`); break;
      case 'table': out.push(`${head} (table ${limitsText(imp.limits)} funcref))`); break;
      case 'global': out.push(`${head} (global ${globalNames[gi++]} ${imp.mutable ? `(mut ${imp.type})` : imp.type}))`); break;
    }
  }
  m.funcs.forEach((f, i) => {
    const t = m.types[f.type]!;
    const used = new Set<string>();
    const names = f.localNames.map((n) => ident(n, used));
    const params = t.params.map((p, j) => `(param ${names[j]} ${p})`).join(' ');
    const results = t.results.length ? ` (result ${t.results.join(' ')})` : '';
    out.push(`  (func ${funcNames[m.importedFuncCount + i]} (type ${f.type})${params ? ' ' + params : ''}${results}`);
    f.locals.forEach((l, j) => out.push(`    (local ${names[f.params + j]} ${l})`));
    printCode(f.code, names, fname, gname, out);
    out.push('  )');
  });
  m.globals.forEach((g, i) => {
    const init = g.initFrom !== undefined ? `(global.get ${gname(packRef(g.initFrom))})` : g.type === 'i32' ? `(i32.const ${g.lo | 0})` : `(i64.const ${i64Text(g.lo, g.hi)})`;
    out.push(`  (global ${globalNames[m.importedGlobalCount + i]} ${g.mutable ? `(mut ${g.type})` : g.type} ${init})`);
  });
  for (const e of m.exports) {
    const target = e.kind === 'func' ? fname(e.ref) : e.kind === 'global' ? gname(e.ref) : String(e.ref);
    out.push(`  (export "${e.name}" (${e.kind} ${target}))`);
  }
  out.push(')');
  return out.join('\n') + '\n';
}

const BLOCK_RESULT: Record<number, string> = { [-1]: 'i32', [-2]: 'i64' };

const NATURAL_ALIGN: Record<string, number> = {};
for (const name of OP_NAME) {
  const m = /^(i32|i64)\.(?:atomic\.)?(?:load|store|rmw)(8|16|32)?/.exec(name);
  if (m) NATURAL_ALIGN[name] = Math.log2((m[2] ? Number(m[2]) : m[1] === 'i32' ? 32 : 64) / 8);
}

function printCode(code: Code, locals: string[], fname: (p: number) => string, gname: (p: number) => string, out: string[]): void {
  let depth = 2;
  const pad = () => '  '.repeat(depth);
  const { ops, a, b, side } = code;
  for (let i = 0; i < code.length; i++) {
    const comment = code.comments.get(i);
    if (comment !== undefined) for (const line of comment.split('\n')) out.push(`${pad()};; ${line}`);
    const op = ops[i]!;
    const name = OP_NAME[op]!;
    if (op === OP.end || op === OP.else) depth -= 1;
    let text = name;
    switch (OP_IMM[op]) {
      case Imm.Local: text += ` ${locals[a[i]!] ?? a[i]}`; break;
      case Imm.Global: text += ` ${gname(a[i]!)}`; break;
      case Imm.Func: text += ` ${fname(a[i]!)}`; break;
      case Imm.Label: text += ` ${a[i]}`; break;
      case Imm.Table: text += ` ${a[i]}`; break;
      case Imm.Lane: text += ` ${a[i]}`; break;
      case Imm.I32: text += ` ${a[i]! | 0}`; break;
      case Imm.I64: text += ` ${i64Text(a[i]!, b[i]!)}`; break;
      case Imm.Block: if (a[i] !== BLOCK_VOID) text += BLOCK_RESULT[a[i]!] !== undefined ? ` (result ${BLOCK_RESULT[a[i]!]})` : ` (type ${a[i]})`; break;
      case Imm.BrTable: text += ` ${side[a[i]!]!.join(' ')}`; break;
      case Imm.CallIndirect: text += ` ${b[i]} (type ${a[i]})`; break;
      case Imm.Shuffle: text += ` ${side[a[i]!]!.join(' ')}`; break;
      case Imm.Mem: {
        if (b[i] !== 0) text += ` offset=${b[i]}`;
        if (a[i] !== NATURAL_ALIGN[name]) text += ` align=${2 ** a[i]!}`;
        break;
      }
      default: break;
    }
    out.push(pad() + text);
    if (op === OP.block || op === OP.loop || op === OP.if || op === OP.else) depth += 1;
  }
}

