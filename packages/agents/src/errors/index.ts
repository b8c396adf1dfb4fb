import { GatehouseError, type GatehouseErrorOptions } from '@gatehouse/core';

const outputMarker = Symbol.for('gatehouse.error.OutputValidationError');

/**
 * An agent's final answer did not match its `outputSchema`, even after one corrective retry.
 * `output` holds the last answer text; `issues` what the schema rejected.
 */
export class OutputValidationError extends GatehouseError {
  readonly [outputMarker] = true;
  readonly agent: string;
  readonly output: string;
  readonly issues: readonly string[];
  constructor(options: GatehouseErrorOptions & { agent: string; output: string; issues: readonly string[] }) {
    super('GATEHOUSE_OUTPUT_INVALID', options);
    this.name = 'OutputValidationError';
    this.agent = options.agent;
    this.output = options.output;
    this.issues = options.issues;
  }
  static override isInstance(error: unknown): error is OutputValidationError {
    return GatehouseError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[outputMarker] === true;
  }
}
