/**
 * The built-in kfunc BTF: its prototypes and iterator structs are the
 * kernel's (checked against the machine's /sys/kernel/btf/vmlinux where
 * there is one), and the loader resolves kfunc externs against it only
 * when it has no kernel BTF.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBtf } from './btf.js';
import type { Btf } from './btf.js';
import { builtinKfuncBtf } from './kfunc-btf.js';
import { parseObject } from './object.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const vmlinux = existsSync(VMLINUX) ? parseBtf(readFileSync(VMLINUX), { name: 'vmlinux' }) : null;
if (!vmlinux) console.log(`skipping the comparison with the kernel's kfunc prototypes: no ${VMLINUX}`);

/** A type as C spells it, through typedefs and modifiers (`int`, `struct bpf_iter_num *`, `const u64 *`). */
function spell(btf: Btf, id: number): string {
  if (id === 0) return 'void';
  const t = btf.typeById(id);
  switch (t.kind) {
    case 'PTR': return `${spell(btf, t.type)} *`;
    case 'CONST': return `const ${spell(btf, t.type)}`;
    case 'TYPEDEF': return t.name === '__u64' || t.name === 'u64' ? 'u64' : t.name === 'u32' || t.name === '__u32' ? 'u32' : t.name === 'bool' ? 'bool' : spell(btf, t.type);
    case 'STRUCT': return `struct ${t.name}`;
    case 'FUNC_PROTO': return `${spell(btf, t.type)} (${t.params.map((p) => spell(btf, p.type)).join(', ')})`;
    default: return t.name;
  }
}

function signature(btf: Btf, name: string): string {
  const id = btf.idsByName(name).find((i) => btf.typeById(i).kind === 'FUNC');
  if (id === undefined) return 'missing';
  const fn = btf.typeById(id) as { type: number };
  const proto = btf.typeById(fn.type) as { type: number; params: { name: string; type: number }[] };
  return `${spell(btf, proto.type)} ${name}(${proto.params.map((p) => `${spell(btf, p.type)} ${p.name}`).join(', ')})`;
}

const NAMES = ['bpf_iter_num_new', 'bpf_iter_num_next', 'bpf_iter_num_destroy', 'bpf_iter_bits_new', 'bpf_iter_bits_next',
  'bpf_iter_bits_destroy', 'bpf_rcu_read_lock', 'bpf_rcu_read_unlock', 'bpf_dynptr_from_skb', 'bpf_dynptr_from_xdp',
  'bpf_dynptr_slice', 'bpf_dynptr_slice_rdwr', 'bpf_dynptr_adjust', 'bpf_dynptr_is_null', 'bpf_dynptr_is_rdonly',
  'bpf_dynptr_size', 'bpf_dynptr_clone', 'bpf_xdp_pull_data', 'bpf_obj_new_impl', 'bpf_percpu_obj_new_impl', 'bpf_obj_drop_impl',
  'bpf_percpu_obj_drop_impl', 'bpf_refcount_acquire_impl', 'bpf_list_push_front_impl', 'bpf_list_push_back_impl', 'bpf_list_pop_front',
  'bpf_list_pop_back', 'bpf_list_front', 'bpf_list_back', 'bpf_rbtree_add_impl', 'bpf_rbtree_remove', 'bpf_rbtree_first', 'bpf_rbtree_root',
  'bpf_rbtree_left', 'bpf_rbtree_right'];

describe('the built-in kfunc BTF', () => {
  it('declares each kfunc with the bpf_kfunc tag, and the iterator structs', () => {
    const btf = builtinKfuncBtf();
    for (const name of NAMES) {
      const fn = btf.idsByName(name).find((i) => btf.typeById(i).kind === 'FUNC')!;
      expect(btf.idsByName('bpf_kfunc').some((i) => (btf.typeById(i) as { type: number }).type === fn), name).toBe(true);
    }
    expect(signature(btf, 'bpf_iter_bits_new')).toBe('int bpf_iter_bits_new(struct bpf_iter_bits * it, const u64 * unsafe_ptr__ign, u32 nr_words)');
    const size = (n: string) => (btf.typeById(btf.idsByName(n)[0]!) as { size: number }).size;
    expect([size('bpf_iter_num'), size('bpf_iter_bits')]).toEqual([8, 16]);
  });

  it.skipIf(!vmlinux)('matches the running kernel\'s prototypes and struct sizes', () => {
    for (const name of NAMES) expect(signature(builtinKfuncBtf(), name)).toBe(signature(vmlinux!, name));
    for (const s of ['bpf_iter_num', 'bpf_iter_bits', 'bpf_dynptr', '__sk_buff', 'xdp_md', 'bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node']) {
      const size = (b: Btf) => (b.typeById(b.idsByName(s).find((i) => b.typeById(i).kind === 'STRUCT')!) as { size: number }).size;
      expect(size(builtinKfuncBtf()), s).toBe(size(vmlinux!));
    }
  });

  it('resolves kfunc externs only without a kernel BTF', () => {
    const bytes = readFileSync(new URL('../../test/fixtures/verifier/objects/iterators.o', import.meta.url));
    const alone = parseObject(bytes, { name: 'iterators.o' });
    expect(alone.kfuncBtf).toBe(builtinKfuncBtf());
    expect(alone.programs.every((p) => !p.loadError)).toBe(true);
    if (vmlinux) expect(parseObject(bytes, { name: 'iterators.o', ksymTarget: () => vmlinux }).kfuncBtf).toBeUndefined();
  });
});
