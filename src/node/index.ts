/**
 * `tsbpf/node`: the Node.js adapters of the library (docs/api.md): objects,
 * programs, kernel configuration and BTF read from files; capture files
 * read, filtered and written in place, and run on worker threads
 * (`runCaptureOnWorkers`); the host's identity; and `kernel`,
 * the Linux `bpf(2)` backend (through koffi, loaded only when used).
 */
export { openObjects, loadObjectFiles, readBtfFile, readKconfigFile, hostLinuxKconfig, kernelBtfSource, kernelSymbolsSource, kernelSymbolAddressSource, readKallsyms, VMLINUX_BTF, KALLSYMS, PROC_CONFIG } from './objects.js';
export type { OpenObjectOptions, ObjectFilesLoad } from './objects.js';
export { loadProgramFile, readFileBytes, readTextFile } from './files.js';
export type { ProgramFile } from './files.js';
export { CaptureFile, forEachCapturedPacket } from './capture-files.js';
export { filterCaptureFile } from './capture-filter.js';
export type { MatchedPacket, FilterFileOptions, FilterFileResult } from './capture-filter.js';
export { hostInfo } from './host.js';
export { runCaptureOnWorkers } from './packet-workers.js';
export type { CaptureOnWorkersOptions, WorkersResult } from './packet-workers.js';
/** The running kernel through `bpf(2)`: maps, program loads, test runs, pinning, capabilities. */
export * as kernel from './bpf/index.js';
