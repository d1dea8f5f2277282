/** Map facts the verifier uses: access capabilities and flags. */
import type { MapInfo } from './reg.js';

export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;

/** bpf_map_flags_to_cap. */
export function mapCaps(map: MapInfo): { read: boolean; write: boolean } {
  if (map.flags & BPF_F_RDONLY_PROG) return { read: true, write: false };
  if (map.flags & BPF_F_WRONLY_PROG) return { read: false, write: true };
  return { read: true, write: true };
}
