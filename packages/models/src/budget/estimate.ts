import type { ModelContext } from '../context/index.js';
import type { PriceBook } from '../cost/price-book.js';
import type { ModelPrice } from '../cost/prices.js';
import type { CompiledRoute } from '../options/index.js';

/** Keys whose strings are not text the model reads as tokens (ids, roles, image data and URLs). */
const skipped = new Set([
  'type',
  'role',
  'id',
  'tool_call_id',
  'tool_use_id',
  'url',
  'data',
  'media_type',
  'cache_control',
  'model',
]);

/** Characters of text in a request part: every string under it, but ids, roles and image data. */
function textLength(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length;
  if (depth > 8 || value === null || typeof value !== 'object') return 0;
  let length = 0;
  if (Array.isArray(value)) {
    for (const item of value) length += textLength(item, depth + 1);
    return length;
  }
  for (const key in value)
    if (!skipped.has(key)) length += textLength((value as Record<string, unknown>)[key], depth + 1);
  return length;
}

/**
 * Input tokens of a request, estimated from its text (`charsPerToken` characters a token): the fields that hold
 * what the model reads (`messages`, `system`, `input`, `instructions`, `tools`), each read by name (a keyed read
 * over a list of names meets every caller's body shape at one site, which V8 serves through its slow path).
 */
export function estimateInputTokens(body: Record<string, any>, charsPerToken: number): number {
  let length = 0;
  const { messages, system, input, instructions, tools } = body;
  if (messages !== undefined) length += messagesLength(messages);
  if (system !== undefined) length += textLength(system, 0);
  if (input !== undefined) length += textLength(input, 0);
  if (instructions !== undefined) length += textLength(instructions, 0);
  if (tools !== undefined) length += textLength(tools, 0);
  return Math.ceil(length / charsPerToken);
}

/**
 * `messages`: a message with string content and no tool calls (the common case) counts its content and name
 * without a walk over its keys; any other is walked.
 */
function messagesLength(messages: unknown): number {
  if (!Array.isArray(messages)) return textLength(messages, 0);
  let length = 0;
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index];
    const content = message?.content;
    if (typeof content === 'string' && message.tool_calls === undefined) {
      const name = message.name;
      length += content.length + (typeof name === 'string' ? name.length : 0);
    } else length += textLength(message, 1);
  }
  return length;
}

/** Output tokens a request may use: its own cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`). */
export function requestedOutputTokens(context: ModelContext, fallback: number): number {
  if (context.request.api === 'embeddings' || context.request.api === 'count-tokens') return 0;
  const body = context.request.body;
  const cap = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof cap === 'number' && cap >= 0 ? cap : fallback;
}

/**
 * The price to reserve a call at. A call that is not a route has its target; a route's target is not chosen yet,
 * so the dearest input and dearest output prices among all its targets (rules' too) are taken: the reservation
 * is an upper bound, and settling refunds the difference.
 */
export function reservationPrice(
  context: ModelContext,
  book: PriceBook,
  routePrices: WeakMap<object, ModelPrice>,
): ModelPrice {
  const route = context.route as CompiledRoute | undefined;
  if (!route) return book.require(context.target!);
  // The last route's price in front of the WeakMap (a lookup there costs more): a busy route asks again and again.
  if (route === lastRoute && routePrices === lastPrices) return lastPrice!;
  let price = routePrices.get(route);
  if (price) return remember(route, routePrices, price);
  price = { input: 0, output: 0 };
  const targets = [...route.targets, ...route.rules.flatMap((rule) => rule.targets)];
  for (const target of targets) {
    const each = book.require(target);
    price.input = Math.max(price.input, each.input, each.cacheWrite ?? 0);
    price.output = Math.max(price.output, each.output);
  }
  routePrices.set(route, price);
  return remember(route, routePrices, price);
}

let lastRoute: object | undefined;
let lastPrices: WeakMap<object, ModelPrice> | undefined;
let lastPrice: ModelPrice | undefined;

function remember(route: object, routePrices: WeakMap<object, ModelPrice>, price: ModelPrice): ModelPrice {
  lastRoute = route;
  lastPrices = routePrices;
  lastPrice = price;
  return price;
}
