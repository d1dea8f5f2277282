/**
 * Whether the kernel refused something for want of a feature this
 * machine's kernel lacks (a helper, a kfunc, a map type), as its verifier
 * log or bpftool/libbpf's complaint says. Kernel builds differ in what
 * they offer (a helper can be left out of a program type), and a test that
 * compares with the kernel skips such a case with this reason instead of
 * failing: what it compares is tsbpf against Linux, not the build's
 * configuration.
 */

const PATTERNS: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/program of this type cannot use helper (\S+)/, (m) => `this kernel does not offer helper ${m[1]} to this program type`],
  [/unknown func (\S+)/, (m) => `this kernel does not know ${m[1]}`],
  [/invalid func unknown#(\d+)/, (m) => `this kernel does not know helper #${m[1]}`],
  [/calling kernel function (\S+) is not allowed/, (m) => `this kernel does not allow kfunc ${m[1]} here`],
  [/extern \(func ksym\) '(\S+)': not found in kernel/, (m) => `this kernel does not have kfunc ${m[1]}`],
  [/BPF_MAP_CREATE failed: (EINVAL|EPERM|EOPNOTSUPP|ENOTSUPP)/, (m) => `this kernel cannot create the map here (${m[1]})`],
  [/failed to create map .*: -(22|1|95|524)\b/, (m) => `this kernel cannot create the map here (errno ${m[1]})`],
];

/** The missing feature `text` (a verifier log, an error, bpftool's output) names, or undefined. */
export function missingKernelFeature(text: string): string | undefined {
  for (const [pattern, say] of PATTERNS) {
    const m = pattern.exec(text);
    if (m) return say(m);
  }
  return undefined;
}
