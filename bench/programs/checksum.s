# Internet-checksum style sum over the packet (1500 bytes in the benchmark),
# with the bounds check the verifier needs on every 16-bit load.
    r2 = *(u32 *)(r1 + 0)          # data
    r3 = *(u32 *)(r1 + 4)          # data_end
    r0 = 0
    r4 = 0
loop:
    r5 = r2
    r5 += r4
    r6 = r5
    r6 += 2
    if r6 > r3 goto fold
    r7 = *(u16 *)(r5 + 0)
    r0 += r7
    r4 += 2
    if r4 < 1500 goto loop
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
    r0 &= 3
    exit
