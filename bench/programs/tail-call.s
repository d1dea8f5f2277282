# XDP: one link of a tail-call chain. The bench loads it 8 times; program i
# has r3 = i + 1 patched in and jumps to slot i + 1 of the prog array (map 0);
# the last slot is empty, so the last program falls through and passes.
    ld_pseudo r2, 0x1, 0x0
    r3 = 1
    call 12                        # bpf_tail_call
    r0 = 2
    exit
