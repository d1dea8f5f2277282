# 20! computed by a subprogram with a loop, in the conformance syntax.
# The caller's r6 survives the call: each frame saves r6..r9.
    mov %r6, 7
    mov %r1, 20
    call local fact
    exit
fact:
    mov %r0, 1
    mov %r6, %r1
loop:
    jeq %r6, 0, done
    mul %r0, %r6
    sub %r6, 1
    ja loop
done:
    exit
