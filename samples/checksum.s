# The Internet checksum (RFC 1071) of the input memory: a 16-bit one's
# complement sum of big-endian words. r1 = data, r2 = its length.
    r0 = 0
    r3 = 0                         # byte index
loop:
    r4 = r3
    r4 += 1
    if r4 >= r2 goto odd
    r5 = r1
    r5 += r3
    r6 = *(u16 *)(r5 + 0)
    r6 = be16 r6
    r0 += r6
    r3 += 2
    goto loop
odd:
    if r3 >= r2 goto fold
    r5 = r1
    r5 += r3
    r6 = *(u8 *)(r5 + 0)
    r6 <<= 8
    r0 += r6
fold:
    r1 = r0
    r1 >>= 16
    r0 &= 0xffff
    r0 += r1
    r1 = r0
    r1 >>= 16
    r0 += r1
    r0 &= 0xffff
    r0 ^= 0xffff
    exit
