/**
 * Which hook context a context pointer belongs to, so packet helpers can
 * turn the `ctx` argument a program passes (r1) into the packet it means.
 */
import type { SkbContext } from './skb.js';
import type { XdpContext } from './xdp.js';

/** The hook contexts of one machine, by context address. */
export class HookContexts {
  private readonly xdp = new Map<number, XdpContext>();
  private readonly skb = new Map<number, SkbContext>();

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
