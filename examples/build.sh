#!/bin/sh
# Rebuilds every example object from its C source, and the input packets.
#
#   examples/build.sh            # all
#   examples/build.sh parser     # only parser.o
#
# Needs clang-19 (Debian: clang-19), the libbpf headers (libbpf-dev) and the
# kernel UAPI headers (linux-libc-dev). The objects are committed; rebuild
# them after editing a source and re-check examples/examples.json against
# the kernel (npx vitest run test/examples).
#
# CPU versions: clang 19's default for -target bpf is "generic" = v1 (LLVM
# 20 moved the default to v3). The examples are built with different
# -mcpu values on purpose, so the set covers every instruction-set level:
# v1 (no JMP32, no ALU32 jumps), v2 (adds the unsigned "less than" jumps),
# v3 (JMP32 and 32-bit ALU sub-registers, atomics with fetch) and v4
# (sign-extending loads and moves, bswap, sdiv/smod, gotol).
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang-19}
ARCH_INC=/usr/include/$(uname -m)-linux-gnu
# -fdebug-prefix-map: the objects do not depend on where the tree is checked out.
CFLAGS="-O2 -g -target bpf -Wall -Werror -I$ARCH_INC -fdebug-prefix-map=$(pwd)=."

# name  -mcpu
OBJECTS="
proto_count   default
xdp_firewall  v3
rate_limit    v3
syn_events    v3
tail_dispatch v3
global_config default
csum_loop     v2
core_ctx      v3
parser        v4
queue_stack   v3
map_in_map    v3
bloom         v3
sock_filter   default
nat_rewrite   v4
vlan_strip    v3
"

only=${1:-}
echo "$OBJECTS" | while read -r name cpu; do
	[ -n "$name" ] || continue
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	if [ "$cpu" = default ]; then mcpu=""; else mcpu="-mcpu=$cpu"; fi
	# shellcheck disable=SC2086
	"$CLANG" $CFLAGS $mcpu -c "$name.c" -o "$name.o"
	echo "built $name.o (${cpu})"
done

if [ -z "$only" ]; then
	python3 inputs/make.py
fi
