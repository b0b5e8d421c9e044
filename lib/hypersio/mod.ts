/**
 * HyperSIO: IOMMU log parsing, the hyper-tenant trace constructor, trace files, and the trace-driven performance
 * model of I/O address translation (spec: HyperSIO reference, PrincetonUniversity/hypersio @ 77edd0b).
 * @module
 */
export { MalformedLine, parseLogLine } from "./log_line.ts";
export type { ContextLine, LogEvent, TranslateLine, WalkLine } from "./log_line.ts";
export { forEachLine } from "./line_reader.ts";
export { buildTrace, devicesFromPrefix } from "./trace_builder.ts";
export type { BuildOptions, BuildResult, LogSummary, TraceOrder } from "./trace_builder.ts";
export {
  CC_RECORD_BYTES,
  IOTLB_RECORD_BYTES,
  isNoNext,
  readCcFile,
  readIotlbFile,
  readSlptFile,
  SLPT_RECORD_BYTES,
  traceFiles,
  traceFilesFromPrefix,
} from "./trace_format.ts";
export type { CcRecord, IotlbRecord, SlptRecord, TraceFiles } from "./trace_format.ts";
export { dumpTrace } from "./trace_dump.ts";
export type { DumpOptions, DumpSummary } from "./trace_dump.ts";
export {
  defaultConfig,
  formatCfgText,
  ModelConfigSchema,
  parseCfgText,
  parseModelConfig,
  parseRunOptions,
  QuirksSchema,
  RunOptionsSchema,
} from "./config.ts";
export type { CacheConfig, ModelConfig, Quirks, RunOptions, RunOptionsInput } from "./config.ts";
export { LATENCY, PACKET_BYTES, runModel, TRANSLATIONS_PER_PACKET } from "./model.ts";
export type { FlowStats, ModelResult } from "./model.ts";
export { formatReport } from "./report.ts";
export { GlibcRandom } from "./glibc_rand.ts";
export { FifoQueue, HeapQueue } from "./ready_queue.ts";
export type { ReadyQueue } from "./ready_queue.ts";
export type { Key, Row } from "./cache_rows.ts";
export { Cache } from "./cache.ts";
export type { CacheGeometry, CacheStats, Policy } from "./cache.ts";
export { Prefetcher } from "./prefetcher.ts";
export type { PrefetcherStats, Remembered, TranslationSource } from "./prefetcher.ts";
export { identityBucket, UnorderedMapOrder } from "./unordered_order.ts";
export type { BucketOf } from "./unordered_order.ts";
export type { U64 } from "./u64.ts";
export { hex, toBigInt } from "./u64.ts";
export { syntheticLogLines, writeSyntheticLog } from "./synthetic_log.ts";
export type { SyntheticLogOptions } from "./synthetic_log.ts";
export {
  ExecutorLostError,
  expandGrid,
  pointKey,
  pointModel,
  readJournal,
  runSweep,
  SweepGridSchema,
} from "./sweep.ts";
export type {
  PointExecutor,
  PointResult,
  SweepGrid,
  SweepGridInput,
  SweepJob,
  SweepOptions,
  SweepOutcome,
  SweepPoint,
} from "./sweep.ts";
export { NodeExecutor, nodeExecutors, pointRunnerBundle } from "./sweep_remote.ts";
export type { NodeExecutorOptions } from "./sweep_remote.ts";
export type { PointSummary } from "./sweep_summary.ts";
export { hitRatePlot, utilizationPlot } from "./sweep_plots.ts";
export { collectIommuLog, tenantDeviceArgs, trafficScript } from "./collect.ts";
export type { CollectOptions, CollectResult } from "./collect.ts";
