export { defaultDetectors, detectorsById, piiDetectors, secretDetectors } from './builtin.js';
export {
  type DefineDetectorOptions,
  type Detector,
  type DetectorExtent,
  type DetectorKind,
  defineDetector,
  type Finding,
} from './detector.js';
export { type RedactValueOptions, redactValue } from './redact-value.js';
export { type RedactOptions, redact, scan } from './scan.js';
export {
  createStreamScanner,
  type StreamScanner,
  type StreamScannerOptions,
  type StreamScanResult,
} from './stream-scanner.js';
