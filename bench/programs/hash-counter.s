# XDP: count packets per IPv4 source address in a hash map (map 0: u32 ->
# u64), updating the counter in place with an atomic add, as per-flow
# counters do.
    r2 = *(u32 *)(r1 + 0)          # data
    r3 = *(u32 *)(r1 + 4)          # data_end
    r4 = r2
    r4 += 34
    if r4 > r3 goto pass
    r5 = *(u32 *)(r2 + 26)         # IPv4 source address
    *(u32 *)(r10 - 4) = r5
    ld_pseudo r1, 0x1, 0x0
    r2 = r10
    r2 += -4
    call 1                         # bpf_map_lookup_elem
    if r0 == 0 goto insert
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    goto pass
insert:
    *(u64 *)(r10 - 16) = 1
    ld_pseudo r1, 0x1, 0x0
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0
    call 2                         # bpf_map_update_elem
pass:
    r0 = 2
    exit
