/** The engines by command-line name. */
import { TsbpfError } from './errors.js';
import { jitEngine } from './jit/jit-engine.js';
import { interpreterEngine } from './vm/engine.js';
import type { Engine } from './vm/engine.js';

/** Names accepted by `--engine`. */
export const ENGINE_NAMES = ['interp', 'jit'] as const;

/** Name of an available engine. */
export type EngineName = (typeof ENGINE_NAMES)[number];

/** The engine called `name`, or a clear error listing the choices. */
export function engineByName(name: string): Engine {
  switch (name) {
    case 'interp':
    case 'interpreter':
      return interpreterEngine;
    case 'jit':
      return jitEngine;
    default:
      throw new TsbpfError(`unknown engine '${name}' (choose one of: ${ENGINE_NAMES.join(', ')})`);
  }
}
