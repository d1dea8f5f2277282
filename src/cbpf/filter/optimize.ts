import type { Block } from './codegen.js';
/** placeholder */
export function optimizeBlocks(root: Block): Block {
  return root;
}
