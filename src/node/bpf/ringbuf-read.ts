/**
 * Reading a BPF_MAP_TYPE_RINGBUF from user space, as libbpf's ring_buffer
 * does: the consumer page and the producer page with the data pages (mapped
 * twice in a row by the kernel, so a record that wraps reads straight
 * through) are mmap'ed, and the records between the consumer and producer
 * positions are read. Nothing is consumed: the consumer position is left as
 * it was.
 */
import { BpfSyscallError } from './syscall-errors.js';
import { libc, MAP_FAILED } from './libc.js';

const PROT_READ = 1;
const MAP_SHARED = 1;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/** The records of a ring buffer that a consumer would get now. */
export interface RingbufContents {
  /** Committed, not discarded records, oldest first. */
  records: Uint8Array[];
  /** Records that were discarded (skipped by a consumer). */
  discarded: number;
  consumer: bigint;
  producer: bigint;
}

/**
 * Reads the committed records of ring buffer `fd` whose data area is
 * `size` bytes (its max_entries). Stops at a record still being written.
 * Throws {@link BpfSyscallError} (command `mmap`) when the map cannot be
 * mapped.
 */
export function readRingbuf(fd: number, size: number): RingbufContents {
  const c = libc();
  const page = c.pageSize;
  const consAddr = c.mmap(page, PROT_READ, MAP_SHARED, fd, 0);
  if (consAddr === MAP_FAILED) throw new BpfSyscallError('mmap', c.errno(), 'ring buffer consumer page');
  try {
    const prodLength = page + 2 * size;
    const prodAddr = c.mmap(prodLength, PROT_READ, MAP_SHARED, fd, page);
    if (prodAddr === MAP_FAILED) throw new BpfSyscallError('mmap', c.errno(), 'ring buffer data pages');
    try {
      const cons = new DataView(c.view(consAddr, page));
      const prodView = c.view(prodAddr, prodLength);
      const prod = new DataView(prodView);
      const consumer = cons.getBigUint64(0, true);
      const producer = prod.getBigUint64(0, true);
      const mask = BigInt(size - 1);
      const records: Uint8Array[] = [];
      let discarded = 0;
      for (let pos = consumer; pos < producer;) {
        const off = page + Number(pos & mask);
        const header = prod.getUint32(off, true);
        if (header & BUSY) break;
        const length = header & 0x3fffffff;
        if (header & DISCARD) discarded++;
        else records.push(new Uint8Array(prodView, off + 8, length).slice());
        pos += BigInt((length + 8 + 7) & ~7);
      }
      return { records, discarded, consumer, producer };
    } finally {
      c.munmap(prodAddr, prodLength);
    }
  } finally {
    c.munmap(consAddr, page);
  }
}
