/**
 * Helpers about sockets and namespaces that every context shares:
 * `bpf_get_netns_cookie` (122).
 */
import type { Helper } from '../vm/helpers.js';
import type { HookContexts } from './contexts.js';

/** Helpers any program type may be offered. */
export function netHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      // The context (or NULL: the initial namespace) names the namespace; tsbpf has one, the run's network.
      id: 122, name: 'bpf_get_netns_cookie', fn: (c) => c.ret(contexts.net.cookie),
    },
  ];
}
