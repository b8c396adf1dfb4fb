export {
  type BudgetEvent,
  type BudgetOptions,
  budgetMiddleware,
  type LimitOptions,
  type LimitScope,
} from './budget-middleware.js';
