# XDP: parse Ethernet / IPv4 / TCP and drop traffic to port 23 (telnet),
# pass everything else.
    r2 = *(u32 *)(r1 + 0)          # data
    r3 = *(u32 *)(r1 + 4)          # data_end
    r4 = r2
    r4 += 34
    if r4 > r3 goto pass
    r5 = *(u16 *)(r2 + 12)
    if r5 != 0x8 goto pass         # EtherType IPv4 (0x0800, read little-endian)
    r5 = *(u8 *)(r2 + 23)
    if r5 != 6 goto pass           # TCP
    r5 = *(u8 *)(r2 + 14)
    r5 &= 15
    r5 <<= 2                       # IPv4 header length
    if r5 < 20 goto pass
    r4 = r2
    r4 += 14
    r4 += r5
    r6 = r4
    r6 += 20
    if r6 > r3 goto pass
    r0 = *(u16 *)(r4 + 2)
    r0 = be16 r0
    if r0 == 23 goto drop
pass:
    r0 = 2
    exit
drop:
    r0 = 1
    exit
