/**
 * Checks and facts on the whole program before path exploration, as the
 * kernel runs them in bpf_check(): subprogram discovery and boundaries
 * (add_subprog_and_kfunc, check_subprogs), ld_imm64 resolution and opcode
 * validity (resolve_pseudo_ldimm64), the control-flow walk that finds
 * unreachable code and marks prune points (check_cfg), strongly connected
 * components (loops) and the static register liveness
 * (compute_live_registers).
 */
import type { Env, SubprogInfo } from './env.js';
import {
  BPF_ABS, BPF_CALL, BPF_EXIT, BPF_IND, BPF_JA, BPF_JCOND, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_X, cls, isHelperCall, isKfuncCall, isLdImm64, isPseudoCall, isPseudoFunc, mode, op, opcodeInInsnTable, srcBit,
} from '../isa/raw.js';
import type { RawInsn } from '../isa/raw.js';
import { checkSubprogBounds } from '../isa/structure.js';
import type { MapInfo } from './reg.js';
import { isSyncCallbackHelper, PROTOS } from '../isa/helper-protos.js';
import { BpfFunc } from '../isa/helper-ids.js';
import { addKfuncCall, checkPseudoBtfId, isIterNextCall, isPktChangingKfuncCall, isSyncCallbackKfuncCall } from './kfuncs.js';
import { callSummary } from './fastcall.js';
import { Limits, MapType, ProgType } from '../isa/uapi.js';

const BPF_MAX_SUBPROGS = Limits.SUBPROGS;

function newSubprog(start: number): SubprogInfo {
  return {
    start, exitIdx: -1, hasTailCall: false, hasLdAbs: false, stackDepth: 0, isCb: false, isAsyncCb: false,
    args: null, argsError: null, called: false, verified: false,
    changesPktData: false, mightSleep: false, tailCallReachable: false, global: false, name: '', fastcallStackOff: 0, keepFastcallStack: false,
  };
}

/** Index of the subprogram starting at `off`, or -1. */
export function findSubprog(env: Env, off: number): number {
  let l = 0;
  let r = env.subprogs.length - 1;
  while (l <= r) {
    const m = (l + r) >> 1;
    const s = env.subprogs[m]!.start;
    if (s === off) return m;
    if (s < off) l = m + 1;
    else r = m - 1;
  }
  return -1;
}

/** The subprogram containing instruction `off`. */
export function containingSubprog(env: Env, off: number): number {
  let l = 0;
  let r = env.subprogs.length - 1;
  while (l < r) {
    const m = l + ((r - l + 1) >> 1);
    if (env.subprogs[m]!.start <= off) l = m;
    else r = m - 1;
  }
  return l;
}

function addSubprog(env: Env, off: number): void {
  if (off >= env.len || off < 0) env.fail('call to invalid destination', 'EINVAL');
  if (findSubprog(env, off) >= 0) return;
  if (env.subprogs.length >= BPF_MAX_SUBPROGS) env.fail('too many subprograms', 'E2BIG');
  env.subprogs.push(newSubprog(off));
  env.subprogs.sort((a, b) => a.start - b.start);
}

/** add_subprog_and_kfunc + check_subprogs. */
export function checkSubprogs(env: Env): void {
  addSubprog(env, 0);
  for (let i = 0; i < env.len; i++) {
    const insn = env.insns[i]!;
    if (!isPseudoFunc(insn) && !isPseudoCall(insn) && !isKfuncCall(insn)) continue;
    if (isPseudoFunc(insn) || isPseudoCall(insn)) addSubprog(env, i + insn.imm + 1);
    else kfuncCall(env, insn);
  }
  // BTF func info gives subprogram names and linkage.
  if (env.funcInfo) {
    for (const fi of env.funcInfo) {
      const s = findSubprog(env, fi.insnOff);
      if (s >= 0) {
        const sp = env.subprogs[s]!;
        sp.name = fi.name;
        sp.global = fi.global && s > 0;
        sp.args = fi.args ?? null;
        sp.argsError = fi.argsError ?? null;
      }
    }
  }
  if (env.logLevel & 2) env.subprogs.forEach((s, i) => env.verbose(`func#${i} @${s.start}\n`));
  const fault = checkSubprogBounds(env.insns, env.subprogs.map((sp) => sp.start), (i, cur) => {
    const insn = env.insns[i]!;
    const sp = env.subprogs[cur]!;
    if (insn.code === (BPF_JMP | BPF_CALL) && insn.src === 0 && insn.imm === BpfFunc.tail_call) {
      sp.hasTailCall = true;
      sp.tailCallReachable = true;
    }
    if (cls(insn.code) === BPF_LD && (mode(insn.code) === BPF_ABS || mode(insn.code) === BPF_IND)) sp.hasLdAbs = true;
    if ((cls(insn.code) === BPF_JMP || cls(insn.code) === BPF_JMP32) && op(insn.code) === BPF_EXIT) sp.exitIdx = i;
  });
  if (fault) env.fail(fault.message, 'EINVAL');
}

function kfuncCall(env: Env, insn: RawInsn): void {
  // Kernel functions need kernel BTF ids; tsbpf has no kernel BTF.
  if (insn.imm === 0 && insn.off === 0) return;
  if (insn.off < 0) env.fail('negative offset disallowed for kernel module function call', 'EINVAL');
  if (insn.off > 0) env.fail('kfunc offset > 0 without fd_array is invalid', 'EPROTO');
  if (insn.imm <= 0) env.fail(`invalid kernel function btf_id ${insn.imm}`, 'EINVAL');
  if (addKfuncCall(env, insn)) return;
  env.fail(`kernel btf_id ${insn.imm} is not a function`, 'EINVAL');
}

/** Map types a sleepable program may use (check_map_prog_compatibility); a map of maps by its inner map. */
const SLEEPABLE_MAP_TYPES: ReadonlySet<number> = new Set([
  MapType.HASH, MapType.LRU_HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH,
  MapType.RINGBUF, MapType.USER_RINGBUF, MapType.INODE_STORAGE, MapType.SK_STORAGE, MapType.TASK_STORAGE,
  MapType.CGRP_STORAGE, MapType.QUEUE, MapType.STACK, MapType.ARENA,
]);

function sleepableMapCompatible(map: MapInfo): boolean {
  if (map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) return map.inner !== null && sleepableMapCompatible(map.inner);
  return SLEEPABLE_MAP_TYPES.has(map.type);
}

/** resolve_pseudo_ldimm64: field checks on loads, map references, opcode validity. */
export function resolvePseudoLdimm64(env: Env): void {
  for (let i = 0; i < env.len; i++) {
    const insn = env.insns[i]!;
    if (cls(insn.code) === BPF_LDX && ((mode(insn.code) !== BPF_MEM && mode(insn.code) !== BPF_MEMSX) || insn.imm !== 0)) {
      env.fail('BPF_LDX uses reserved fields', 'EINVAL');
    }
    if (isLdImm64(insn)) {
      const next = env.insns[i + 1];
      if (i === env.len - 1 || !next || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        env.fail('invalid bpf_ld_imm64 insn', 'EINVAL');
      }
      const src = insn.src;
      if (src === 0 || src === 4) {
        i++;
        continue;
      }
      if (src === 3) {
        checkPseudoBtfId(env, i, insn, next);
        i++;
        continue;
      }
      if (!(src === 2 || src === 6 || ((src === 1 || src === 5) && next.imm === 0))) {
        env.fail('unrecognized bpf_ld_imm64 insn', 'EINVAL');
      }
      const byFd = src === 1 || src === 2;
      const map = byFd && !env.mapFdsIndexMaps ? undefined : env.maps[insn.imm];
      if (!map) env.fail(`fd ${insn.imm} is not pointing to valid bpf_map`, 'EBADF');
      checkMapFieldsForProg(env, map);
      if (map.type === MapType.STRUCT_OPS) env.fail('bpf_struct_ops map cannot be used in prog', 'EINVAL');
      if (env.sleepable && !sleepableMapCompatible(map)) {
        env.fail('Sleepable programs can only use array, hash, ringbuf and local storage maps, also as inner maps', 'EINVAL');
      }
      env.aux[i]!.mapIndex = insn.imm;
      if (src === 2 || src === 6) {
        const off = next.imm >>> 0;
        // resolve_pseudo_ldimm64 checks the offset before the map type
        if (off >= 1 << 29) env.fail(`direct value offset of ${off} is not allowed`, 'EINVAL');
        const direct = map.type === MapType.ARRAY || map.type === MapType.ARENA;
        if (!direct) env.fail('no direct value access support for this map type', 'EINVAL');
        if (map.type === MapType.ARRAY && (map.maxEntries !== 1 || off >= map.valueSize)) {
          env.fail(`invalid access to map value pointer, value_size=${map.valueSize} off=${off}`, 'EINVAL');
        }
        env.aux[i]!.mapOff = off;
      }
      i++;
      continue;
    }
    if (!opcodeInInsnTable(insn.code)) env.fail(`unknown opcode ${insn.code.toString(16).padStart(2, '0')}`, 'EINVAL');
  }
}

/** Successors of instruction `idx` within its function (bpf_insn_successors). */
export function successors(env: Env, idx: number): number[] {
  const insn = env.insns[idx]!;
  const c = insn.code;
  const k = cls(c);
  if (k !== BPF_JMP && k !== BPF_JMP32) return [idx + (isLdImm64(insn) ? 2 : 1)];
  const o = op(c);
  if (o === BPF_EXIT) return [];
  if (o === BPF_CALL) {
    if (isHelperCall(insn) && insn.imm === BpfFunc.tail_call) {
      const sp = env.subprogs[containingSubprog(env, idx)]!;
      return sp.exitIdx >= 0 && sp.exitIdx !== idx + 1 ? [idx + 1, sp.exitIdx] : [idx + 1];
    }
    return [idx + 1];
  }
  if (o === BPF_JA) {
    if (srcBit(c) === BPF_X) return [];
    return [idx + 1 + (k === BPF_JMP ? insn.off : insn.imm)];
  }
  const t = idx + 1 + insn.off;
  return t === idx + 1 ? [idx + 1] : [idx + 1, t];
}

const DISCOVERED = 0x10;
const EXPLORED = 0x20;
const FALLTHROUGH = 1;
const BRANCH = 2;

/** check_cfg: depth-first walk from insn 0 (and callees); unreachable code; prune points. */
export function checkCfg(env: Env): void {
  const state = new Int32Array(env.len);
  const stack: number[] = [0];
  state[0] = DISCOVERED;
  const aux = env.aux;
  const pushInsn = (t: number, w: number, e: number): number => {
    if (e === FALLTHROUGH && state[t]! >= (DISCOVERED | FALLTHROUGH)) return 0;
    if (e === BRANCH && state[t]! >= (DISCOVERED | BRANCH)) return 0;
    if (w < 0 || w >= env.len) {
      env.verboseLinfo(t, `${t}: `);
      env.fail(`jump out of range from insn ${t} to ${w}`, 'EINVAL');
    }
    if (e === BRANCH) {
      aux[w]!.prunePoint = true;
      aux[w]!.jmpPoint = true;
      aux[w]!.jumpTarget = true;
    }
    if (state[w] === 0) {
      state[t] = DISCOVERED | e;
      state[w] = DISCOVERED;
      stack.push(w);
      return 1;
    }
    if ((state[w]! & 0xf0) === DISCOVERED) return 0; // back-edge: allowed for privileged programs
    state[t] = DISCOVERED | e;
    return 0;
  };
  const visitCall = (t: number, visitCallee: boolean): number => {
    const insn = env.insns[t]!;
    const sz = isLdImm64(insn) ? 2 : 1;
    const ret = pushInsn(t, t + sz, FALLTHROUGH);
    if (ret) return ret;
    aux[t + sz]!.prunePoint = true;
    aux[t + sz]!.jmpPoint = true;
    if (visitCallee) {
      aux[t]!.prunePoint = true;
      // merge_callee_effects: the DFS revisits t once the callee is explored, so its marks are final by then
      const callee = env.subprogs[containingSubprog(env, t + insn.imm + 1)]!;
      if (callee.changesPktData) env.subprogs[containingSubprog(env, t)]!.changesPktData = true;
      if (callee.mightSleep) env.subprogs[containingSubprog(env, t)]!.mightSleep = true;
      return pushInsn(t, t + insn.imm + 1, BRANCH);
    }
    return 0;
  };
  while (stack.length > 0) {
    const t = stack[stack.length - 1]!;
    const insn = env.insns[t]!;
    let ret: number;
    const k = cls(insn.code);
    if (isPseudoFunc(insn)) {
      ret = visitCall(t, true);
    } else if (k !== BPF_JMP && k !== BPF_JMP32) {
      ret = pushInsn(t, t + (isLdImm64(insn) ? 2 : 1), FALLTHROUGH);
    } else {
      const o = op(insn.code);
      if (o === BPF_EXIT) {
        ret = 0;
      } else if (o === BPF_CALL) {
        if ((isHelperCall(insn) && isSyncCallbackHelper(insn.imm)) || (insn.src === 2 && isSyncCallbackKfuncCall(env, insn))) {
          aux[t]!.callsCallback = true;
          aux[t]!.forceCheckpoint = true;
          aux[t]!.prunePoint = true;
          aux[t]!.jmpPoint = true;
        }
        // mark_subprog_might_sleep: a global function that may sleep cannot be called where sleeping is not allowed
        if (isHelperCall(insn) && PROTOS.get(insn.imm)?.mightSleep) env.subprogs[containingSubprog(env, t)]!.mightSleep = true;
        // a tail-called program may change the packet: the caller of a function that tail-calls must assume it did
        if (isHelperCall(insn) && (PROTOS.get(insn.imm)?.changesPkt || insn.imm === BpfFunc.tail_call)) {
          env.subprogs[containingSubprog(env, t)]!.changesPktData = true;
        }
        // an iterator's `_next` is where its loop is proven convergent: always a checkpoint
        if (insn.src === 2 && isPktChangingKfuncCall(env, insn)) env.subprogs[containingSubprog(env, t)]!.changesPktData = true;
        if (insn.src === 2 && isIterNextCall(env, insn)) {
          aux[t]!.prunePoint = true;
          aux[t]!.forceCheckpoint = true;
          aux[t]!.iterNext = true;
        }
        ret = visitCall(t, insn.src === 1);
      } else if (o === BPF_JA) {
        const off = k === BPF_JMP ? insn.off : insn.imm;
        ret = pushInsn(t, t + off + 1, FALLTHROUGH);
        aux[t + off + 1]!.prunePoint = true;
        aux[t + off + 1]!.jmpPoint = true;
        aux[t + off + 1]!.jumpTarget = true;
      } else {
        aux[t]!.prunePoint = true;
        if (insn.code === (BPF_JMP | BPF_JCOND) && insn.src === 0) aux[t]!.forceCheckpoint = true;
        ret = pushInsn(t, t + 1, FALLTHROUGH);
        if (!ret) ret = pushInsn(t, t + insn.off + 1, BRANCH);
      }
    }
    if (ret === 0) {
      state[t] = EXPLORED;
      stack.pop();
    }
  }
  for (let i = 0; i < env.len; i++) {
    if (state[i] !== EXPLORED) env.fail(`unreachable insn ${i}`, 'EINVAL');
    if (isLdImm64(env.insns[i]!)) {
      if (state[i + 1] !== 0) env.fail(`jump into the middle of ldimm64 insn ${i}`, 'EINVAL');
      i++;
    }
  }
}

/** Strongly connected components (loops) per instruction: 0 when not in a loop. */
export function computeScc(env: Env): void {
  const n = env.len;
  const NOT_ON_STACK = 0x7fffffff;
  const pre = new Int32Array(n);
  const low = new Int32Array(n);
  const stack: number[] = [];
  let nextPre = 1;
  let nextScc = 1;
  const succCache: number[][] = [];
  const succ = (w: number): number[] => (succCache[w] ??= successors(env, w).filter((s) => s < n));
  for (let i = 0; i < n; i++) {
    if (pre[i]) continue;
    const dfs: number[] = [i];
    outer: while (dfs.length) {
      const w = dfs[dfs.length - 1]!;
      if (pre[w] === 0) {
        low[w] = nextPre;
        pre[w] = nextPre;
        nextPre++;
        stack.push(w);
      }
      const ss = succ(w);
      for (const s of ss) {
        if (pre[s]) {
          low[w] = Math.min(low[w]!, low[s]!);
        } else {
          dfs.push(s);
          continue outer;
        }
      }
      if (low[w]! < pre[w]!) {
        dfs.pop();
        continue;
      }
      let assign = stack[stack.length - 1] !== w;
      if (ss.includes(w)) assign = true;
      // (the kernel's level-2 log numbers a callback-calling instruction as
      // an SCC of its own; tsbpf's exploration matches the kernel's without)
      let t: number;
      do {
        t = stack.pop()!;
        low[t] = NOT_ON_STACK;
        if (assign) env.aux[t]!.scc = nextScc;
      } while (t !== w);
      if (assign) nextScc++;
      dfs.pop();
    }
  }
}

/** Which registers an instruction reads and writes (compute_insn_live_regs). */
function useDef(env: Env, insn: RawInsn): [use: number, def: number] {
  const c = insn.code;
  const src = 1 << insn.src;
  const dst = 1 << insn.dst;
  const m = mode(c);
  switch (cls(c)) {
    case BPF_LD:
      if (m === 0 && isLdImm64(insn)) return [0, dst];
      return [0xffff, 0];
    case BPF_LDX:
      if (m === BPF_MEM || m === BPF_MEMSX) return [src, dst];
      return [0xffff, 0];
    case 0x02: // ST
      if (m === BPF_MEM) return [dst, 0];
      return [0xffff, 0];
    case 0x03: // STX
      if (m === BPF_MEM) return [dst | src, 0];
      if (m === 0xc0) {
        if (insn.imm === 0xf1) return [1 | dst | src, 1];
        if (insn.imm === 0x100) return [src, dst];
        if (insn.imm === 0x110) return [dst | src, 0];
        return [dst | src, insn.imm & 1 ? src : 0];
      }
      return [0xffff, 0];
    case 0x04: case 0x07: {
      const o = op(c);
      if (o === 0xd0) return [dst, dst];
      if (o === 0xb0) return [srcBit(c) === BPF_K ? 0 : src, dst];
      return [srcBit(c) === BPF_K ? dst : dst | src, dst];
    }
    case BPF_JMP: case BPF_JMP32: {
      const o = op(c);
      if (o === BPF_JA) return [srcBit(c) === BPF_X ? dst : 0, 0];
      if (o === BPF_JCOND) return [0, 0];
      if (o === BPF_EXIT) return [1, 0];
      if (o === BPF_CALL) {
        const def = 0x3f;
        // a helper or kfunc reads as many registers as its prototype has parameters
        const cs = callSummary(env, insn);
        if (cs) return [((1 << (cs.numParams + 1)) - 1) & ~1, def];
        return [def & ~1, def];
      }
      return [srcBit(c) === BPF_K ? dst : dst | src, 0];
    }
  }
  return [0xffff, 0];
}

/** compute_live_registers: registers that may be read before written, per instruction. */
export function computeLiveRegs(env: Env): void {
  const n = env.len;
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  const inn = new Uint16Array(n);
  const out = new Uint16Array(n);
  const succ: number[][] = [];
  for (let i = 0; i < n; i++) {
    const [u, d] = useDef(env, env.insns[i]!);
    use[i] = u;
    def[i] = d;
    succ.push(successors(env, i).filter((s) => s < n));
  }
  const order = postorder(env, succ);
  let changed = true;
  while (changed) {
    changed = false;
    for (const i of order) {
      let o = 0;
      for (const s of succ[i]!) o |= inn[s]!;
      const ni = (o & ~def[i]!) | use[i]!;
      if (o !== out[i] || ni !== inn[i]) {
        out[i] = o;
        inn[i] = ni;
        changed = true;
      }
    }
  }
  for (let i = 0; i < n; i++) env.aux[i]!.liveRegsBefore = inn[i]!;
  if (env.logLevel & 2) {
    env.verbose('Live regs before insn:\n');
    for (let i = 0; i < n; i++) {
      const scc = env.aux[i]!.scc;
      let line = scc ? `${String(scc).padStart(3)} ` : '    ';
      line += `${String(i).padStart(3)}: `;
      for (let r = 0; r < 10; r++) line += inn[i]! & (1 << r) ? String(r) : '.';
      env.verbose(`${line} ${env.formatKernelSlot(i)}\n`);
      if (isLdImm64(env.insns[i]!)) i++;
    }
  }
}

/** Instructions of every subprogram in postorder. */
function postorder(env: Env, succ: number[][]): number[] {
  const n = env.len;
  const state = new Uint8Array(n);
  const order: number[] = [];
  for (const sp of env.subprogs) {
    const stack = [sp.start];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      state[top] |= 1;
      if (state[top]! & 2) {
        order.push(top);
        stack.pop();
        continue;
      }
      for (const s of succ[top]!) {
        if (!state[s]) {
          stack.push(s);
          state[s] |= 1;
        }
      }
      state[top] |= 2;
    }
  }
  return order;
}

/** Program types that run in arbitrary kernel context (is_tracing_prog_type): kprobe, tracepoint, perf_event, raw tracepoints. */
const TRACING_CONTEXT_TYPES = new Set([2, 5, 7, 17, 24]);

/** check_map_prog_compatibility: locks, timers, list heads and rbtree roots in values, by program type. */
function checkMapFieldsForProg(env: Env, map: MapInfo): void {
  const tracing = TRACING_CONTEXT_TYPES.has(env.progType);
  if (tracing && map.record?.fields.some((f) => f.type === 'bpf_list_head' || f.type === 'bpf_rb_root')) {
    env.fail('tracing progs cannot use bpf_{list_head,rb_root} yet', 'EINVAL');
  }
  if (map.spinLockOff >= 0) {
    if (env.progType === ProgType.SOCKET_FILTER) env.fail('socket filter progs cannot use bpf_spin_lock yet', 'EINVAL');
    if (tracing) env.fail('tracing progs cannot use bpf_spin_lock yet', 'EINVAL');
  }
  if (tracing && map.timerOff >= 0) env.fail('tracing progs cannot use bpf_timer yet', 'EINVAL');
}
