/**
 * The tsbpf verifier: static analysis that accepts and rejects programs as
 * the Linux verifier does (see docs/verifier.md).
 */
export { verify, kernelErrorLine, licenseIsGplCompatible, assertVerified, VerifierError } from './verify.js';
export type { VerifyProgram, VerifyOptions, VerifyResult, VerifyStats, VerifierMapSpec } from './verify.js';
export { verifyObjectProgram, loaderRejection } from './verify-object.js';
export type { ObjectLike, ObjectProgramLike, BtfLike, BtfTypeLike } from './verify-object.js';
export { globalFuncArgs } from './verify-object.js';
export type { GlobalArg } from './env.js';
export { PROG_TYPE_ALIASES, progTypeByName, attachTypeByName } from './prog-types.js';
export { PROG_TYPE_NAMES, ATTACH_TYPE_NAMES } from '../isa/uapi.js';
export type { KernelBtf, KBtfType, KBtfMember } from './kbtf.js';
