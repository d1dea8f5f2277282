/**
 * The helper table of each program type: the vm helpers, the map helpers,
 * and the hook helpers of the type's context (packets, routes, redirects,
 * tunnels), limited to what the kernel offers that type. A helper the
 * table lacks still loads: calling it stops the run with an error naming
 * the helper and the instruction (HelperTable.missing).
 */
import { DynptrType, HELPERS_BY_TYPE } from '../isa/uapi.js';
import { HelperTable } from '../vm/helper-call.js';
import type { Helper } from '../vm/helper-call.js';
import { vmHelpers } from '../vm/helpers/index.js';
import type { VmHelperOptions } from '../vm/helpers/index.js';
import { dynptrHelpers } from '../vm/helpers/dynptr.js';
import type { PacketDynptrSource } from '../vm/helpers/dynptr.js';
import { isRuntimeKfuncId } from '../vm/helpers/kfuncs.js';
import type { HookContexts } from './contexts.js';
import { skbHelpers, xdpHelpers } from './packet-helpers.js';
import { contextKind, progTypeName } from './program-types.js';
import { skbRedirectHelpers, xdpRedirectHelpers } from './redirect.js';
import { skbRouteHelpers, xdpRouteHelpers } from './route-helpers.js';
import { skbEditHelpers } from './skb-edit.js';
import { netHelpers, sockOpsHelpers } from './sock-helpers.js';
import { tunnelHelpers } from './tunnel-helpers.js';
import { progTypeInfo } from '../verifier/prog-types.js';

/** The packets behind XDP and socket-buffer dynptrs, found through their contexts. */
function packetDynptrs(typeId: number, contexts: HookContexts): PacketDynptrSource {
  return {
    packet(type, ctx) {
      if (type === DynptrType.XDP) {
        const p = contexts.xdpAt(ctx)?.pointers();
        return p && { data: p.data, len: p.end - p.data };
      }
      const b = type === DynptrType.SKB ? contexts.skbAt(ctx)?.bounds() : undefined;
      return b && { data: b.data, len: b.end - b.data };
    },
    // skb dynptrs are read-only where the program may not write its packet (may_access_direct_pkt_data)
    writable: () => progTypeInfo(typeId).pkt === 'rw',
  };
}

/** The hook helpers of a program type's context. */
function hookHelpers(typeId: number, contexts: HookContexts): Helper[] {
  switch (contextKind(typeId)) {
    case 'xdp':
      return [...xdpHelpers(contexts), ...xdpRedirectHelpers(contexts), ...xdpRouteHelpers(contexts), ...dynptrHelpers(packetDynptrs(typeId, contexts))];
    case 'skb-l2':
    case 'skb-l3':
      return [...skbHelpers(contexts), ...skbEditHelpers(contexts), ...skbRedirectHelpers(contexts), ...skbRouteHelpers(contexts), ...tunnelHelpers(contexts),
        ...dynptrHelpers(packetDynptrs(typeId, contexts))];
    default:
      return progTypeName(typeId) === 'sock_ops' ? sockOpsHelpers(contexts) : [];
  }
}

/** Helpers for programs of kernel type `typeId` whose contexts are in `contexts`. */
export function helpersForType(typeId: number, contexts: HookContexts, options: VmHelperOptions = {}, extra: Helper[] = []): HelperTable {
  const type = progTypeName(typeId);
  const allowed = HELPERS_BY_TYPE[type] ? new Set(HELPERS_BY_TYPE[type]) : undefined;
  // Hook helpers only where the kernel offers them to the type: the same id may mean another helper elsewhere.
  const hooks = [...hookHelpers(typeId, contexts), ...netHelpers(contexts)].filter((h) => !allowed || allowed.has(h.id) || isRuntimeKfuncId(h.id));
  return new HelperTable([...vmHelpers(options), ...extra, ...hooks], (id) => (allowed && !allowed.has(id) ? `not available to ${type} programs` : undefined));
}
