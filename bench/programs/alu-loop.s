# A tight ALU loop: 1000 iterations of mixing arithmetic (XDP; ignores the packet).
    r0 = 0
    r2 = 0x12345678
    r3 = 0
loop:
    r0 += r2
    r0 ^= r3
    r2 *= 0x5bd1e995
    r2 += 1
    r4 = r0
    r4 >>= 7
    r0 ^= r4
    r3 += 1
    if r3 < 1000 goto loop
    r0 &= 3
    exit
