/**
 * The helper table of each program type: the vm helpers, the map helpers,
 * and the packet helpers of the type's context.
 */
import { HelperTable } from '../vm/helpers.js';
import type { Helper } from '../vm/helpers.js';
import { vmHelpers } from '../vm/helpers/index.js';
import type { VmHelperOptions } from '../vm/helpers/index.js';
import type { HookContexts } from './contexts.js';
import { skbHelpers, xdpHelpers } from './packet-helpers.js';
import { contextKind } from './program-types.js';

/** Helpers for programs of kernel type `typeId` whose contexts are in `contexts`. */
export function helpersForType(typeId: number, contexts: HookContexts, options: VmHelperOptions = {}, extra: Helper[] = []): HelperTable {
  const kind = contextKind(typeId);
  const packet = kind === 'xdp' ? xdpHelpers(contexts) : kind === 'skb-l2' || kind === 'skb-l3' ? skbHelpers(contexts) : [];
  return new HelperTable([...vmHelpers(options), ...extra, ...packet]);
}
