/**
 * Which hook context a context pointer belongs to, so packet helpers can
 * turn the `ctx` argument a program passes (r1) into the packet it means,
 * and what the helpers of one run share: the network the run sees and what
 * the redirect helpers recorded.
 */
import { NetNamespace } from './net.js';
import type { SockOpsSocket } from './sock-helpers.js';
import { noRedirect } from './redirect.js';
import type { ClonedPacket, RedirectInfo } from './redirect.js';
import type { SkbContext } from './skb.js';
import type { XdpContext } from './xdp.js';

/** The hook contexts of one machine, by context address, and the state of the run in progress. */
export class HookContexts {
  private readonly xdp = new Map<number, XdpContext>();
  private readonly skb = new Map<number, SkbContext>();
  /** The network runs see (devices, routes, neighbours): the test-run namespace unless replaced. */
  net = new NetNamespace();
  /** What the redirect helpers of the current run recorded (Linux's `struct bpf_redirect_info`). */
  redirect: RedirectInfo = noRedirect();
  /** The copies `bpf_clone_redirect` sent during the current run. */
  clones: ClonedPacket[] = [];

  private socketCookies = 0n;

  /** A fresh socket cookie (`bpf_get_socket_cookie`): 1, 2, 3, ... in the order sockets ask for one. */
  nextSocketCookie(): bigint {
    this.socketCookies += 1n;
    return this.socketCookies;
  }

  /** Forgets what the previous run's helpers recorded; the test runner calls it before each run. */
  beginRun(): void {
    this.redirect = noRedirect();
    this.clones = [];
  }

  private readonly sockOps = new Map<number, { socket: SockOpsSocket }>();

  /** Registers a sock_ops context and the socket of its run. */
  addSockOps(addr: number, socket: SockOpsSocket): void {
    this.sockOps.set(addr, { socket });
  }

  /** The sock_ops context at `addr` and its socket. */
  sockOpsAt(addr: number): { socket: SockOpsSocket } | undefined {
    return this.sockOps.get(addr);
  }

  /** Registers an XDP context. */
  addXdp(ctx: XdpContext): XdpContext {
    this.xdp.set(ctx.ctx.start, ctx);
    return ctx;
  }

  /** Registers a socket-buffer context. */
  addSkb(ctx: SkbContext): SkbContext {
    this.skb.set(ctx.ctx.start, ctx);
    return ctx;
  }

  /** The XDP context whose `xdp_md` is at `addr`. */
  xdpAt(addr: number): XdpContext | undefined {
    return this.xdp.get(addr);
  }

  /** The socket buffer whose `__sk_buff` is at `addr`. */
  skbAt(addr: number): SkbContext | undefined {
    return this.skb.get(addr);
  }
}
