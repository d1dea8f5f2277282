/**
 * Errors of the loader layer. Every problem found in an object file, a BTF
 * blob or a relocation is a {@link LoaderError} whose location names the
 * file, the ELF section and the byte offset (or instruction) where it is.
 */
import { TsbpfError } from '../errors.js';

/** A malformed or unsupported object file, BTF blob or relocation. */
export class LoaderError extends TsbpfError {}
