# Parses Ethernet / IPv4 / TCP and returns the TCP destination port (0 when
# the frame is something else). r1 = frame, r2 = its length.
    r3 = r1
    r3 += r2                       # r3 = end of the frame
    r4 = r1
    r4 += 34                       # Ethernet (14) + minimal IPv4 header (20)
    if r4 > r3 goto other
    r5 = *(u16 *)(r1 + 12)         # EtherType, network order
    if r5 != 0x8 goto other        # 0x0800 read little-endian
    r5 = *(u8 *)(r1 + 23)          # IPv4 protocol
    if r5 != 6 goto other          # TCP
    r5 = *(u8 *)(r1 + 14)
    r5 &= 15
    r5 <<= 2                       # IPv4 header length in bytes
    r4 = r1
    r4 += 14
    r4 += r5                       # r4 = TCP header
    r6 = r4
    r6 += 20
    if r6 > r3 goto other
    r0 = *(u16 *)(r4 + 2)          # destination port
    r0 = be16 r0
    exit
other:
    r0 = 0
    exit
