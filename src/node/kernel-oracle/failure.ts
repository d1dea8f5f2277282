/**
 * An oracle request that cannot be carried out: it becomes the reply
 * `{"ok": false, "error": ..., "errno": ..., "errno_name": ..., "stage": ...}`.
 */
import { errnoName } from '../bpf/errno.js';
import type { OracleReply } from './protocol.js';

/** Where a request failed. */
export type FailureStage = 'input' | 'bpf' | 'map_create' | 'load' | 'map_init' | 'test_run';

/** A failure that becomes an `ok: false` reply. */
export class OracleFailure extends Error {
  constructor(
    message: string,
    /** The errno behind it (0: none). */
    readonly errno: number = 0,
    readonly stage?: FailureStage,
    /** More reply fields (`log`, `accepted`, `prog`, ...). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The reply. */
  toReply(): OracleReply {
    const out: OracleReply = { ok: false, error: this.message };
    if (this.errno) {
      out.errno = this.errno;
      out.errno_name = errnoName(this.errno);
    }
    if (this.stage) out.stage = this.stage;
    Object.assign(out, this.extra);
    return out;
  }
}

/** A request field that is wrong. */
export function inputError(message: string): OracleFailure {
  return new OracleFailure(message, 0, 'input');
}
