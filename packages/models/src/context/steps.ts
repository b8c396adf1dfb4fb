import type { ModelContext, ModelMiddleware, ModelResult } from './index.js';

/**
 * A middleware written as steps around the rest of the chain, for the layer's own governance middleware
 * (guardrails, budgets, cost): the layer runs the steps of those that lead its chain inside the call's one
 * promise step, instead of a promise per middleware. As a function (placed anywhere in `middleware: […]`) it
 * behaves the same.
 */
export interface ModelSteps<State = unknown> {
  /** Before the rest of the chain: may throw (refusing the call), or answer a promise (a store that answers with one). */
  before(context: ModelContext): State | Promise<State>;
  /** With the rest of the chain's result: the result to pass on (possibly wrapped); may throw. */
  after(context: ModelContext, result: ModelResult, state: State): ModelResult;
  /** The rest of the chain failed (or an inner step threw): clean up; the error goes on. */
  failed?(context: ModelContext, error: unknown, state: State): void;
}

const stepsSlot = Symbol.for('gatehouse.models.steps');

/** The middleware that runs `steps` around `next()`, carrying them for the layer (see `ModelSteps`). */
export function stepsMiddleware<State>(steps: ModelSteps<State>): ModelMiddleware {
  const middleware: ModelMiddleware = (context, next) => {
    let state: State | Promise<State>;
    try {
      state = steps.before(context);
    } catch (error) {
      return Promise.reject(error);
    }
    const around = (entered: State) =>
      next().then(
        (result) => steps.after(context, result, entered),
        (error: unknown) => {
          steps.failed?.(context, error, entered);
          throw error;
        },
      );
    return state instanceof Promise ? state.then(around) : around(state);
  };
  return Object.assign(middleware, { [stepsSlot]: steps });
}

/** The steps a middleware made by `stepsMiddleware` carries. */
export function stepsOf(middleware: ModelMiddleware): ModelSteps | undefined {
  return (middleware as unknown as { [stepsSlot]?: ModelSteps })[stepsSlot];
}

/** One call's progress through leading steps: how many have run `before`, and what each answered. */
export interface StepsProgress {
  entered: number;
  readonly states: unknown[];
}

/**
 * Runs the `before` of each step in order, then `chain`. Synchronous unless a step answers a promise. A step that
 * throws stops there: `progress.entered` counts the steps to unwind.
 */
export function enterSteps(
  context: ModelContext,
  steps: readonly ModelSteps[],
  progress: StepsProgress,
  chain: (context: ModelContext) => Promise<ModelResult>,
): Promise<ModelResult> {
  for (let index = progress.entered; index < steps.length; index++) {
    let state: unknown;
    try {
      state = steps[index]!.before(context);
    } catch (error) {
      return Promise.reject(error);
    }
    if (state instanceof Promise)
      return state.then((entered) => {
        progress.states[index] = entered;
        progress.entered = index + 1;
        return enterSteps(context, steps, progress, chain);
      });
    progress.states[index] = state;
    progress.entered = index + 1;
  }
  return chain(context);
}

/** Runs the `after` of each entered step, innermost first; a step that throws unwinds the ones outside it. */
export function leaveSteps(
  context: ModelContext,
  steps: readonly ModelSteps[],
  progress: StepsProgress,
  result: ModelResult,
): ModelResult {
  let index = progress.entered - 1;
  try {
    for (; index >= 0; index--) result = steps[index]!.after(context, result, progress.states[index]);
  } catch (error) {
    progress.entered = index;
    failSteps(context, steps, progress, error);
    throw error;
  }
  return result;
}

/** Runs the `failed` of each entered step, innermost first. */
export function failSteps(
  context: ModelContext,
  steps: readonly ModelSteps[],
  progress: StepsProgress,
  error: unknown,
): void {
  for (let index = progress.entered - 1; index >= 0; index--)
    steps[index]!.failed?.(context, error, progress.states[index]);
  progress.entered = 0;
}
