export {
  type CostOptions,
  type CostRecordFailedEvent,
  costKey,
  costMiddleware,
  isCostMiddleware,
} from './cost-middleware.js';
export type { Window } from './period.js';
export { type Cost, costOf, PriceBook, type PricedTarget, type PriceOverrides } from './price-book.js';
export { defaultPrices, type ModelPrice, type PriceTable } from './prices.js';
export { type CostReport, type CostReportOptions, costReport } from './report.js';
