# XDP: route lookup of the IPv4 destination address in an LPM trie (map 0:
# { u32 prefixlen; u8 addr[4] } -> u64 action); drop what the table says.
    r2 = *(u32 *)(r1 + 0)          # data
    r3 = *(u32 *)(r1 + 4)          # data_end
    r4 = r2
    r4 += 34
    if r4 > r3 goto pass
    r5 = *(u32 *)(r2 + 30)         # IPv4 destination address
    *(u32 *)(r10 - 4) = r5
    *(u32 *)(r10 - 8) = 32         # prefixlen
    ld_pseudo r1, 0x1, 0x0
    r2 = r10
    r2 += -8
    call 1                         # bpf_map_lookup_elem
    if r0 == 0 goto pass
    r0 = *(u64 *)(r0 + 0)
    exit
pass:
    r0 = 2
    exit
