/**
 * A small chain at work: a scope set with gateway.run(), three middleware around a handler, a denial that
 * answers without calling next(), a typed error, and the events an audit sink receives.
 */
import { compose, createGateway, type Middleware, PolicyDeniedError } from '@gatehouse/core';

interface Ctx {
  prompt: string;
  team: string | undefined;
  trail: string[];
}

const gateway = createGateway({});
gateway.events.on('listener-error', (event) => console.log('listener failed for', event.event));

const timing: Middleware<Ctx, string> = async (ctx, next) => {
  const started = performance.now();
  const result = await next();
  ctx.trail.push(`timing ${(performance.now() - started).toFixed(2)} ms`);
  return result;
};

const teamsOnly: Middleware<Ctx, string> = async (ctx, next) => {
  if (!ctx.team)
    throw new PolicyDeniedError({ message: 'no team in scope; call inside gateway.run({ principal: { team } })' });
  ctx.trail.push(`allowed team ${ctx.team}`);
  return next();
};

const shout: Middleware<Ctx, string> = async (_ctx, next) => (await next()).toUpperCase();

const handle = compose([timing, teamsOnly, shout], async (ctx) => `answer to "${ctx.prompt}"`);

async function ask(prompt: string): Promise<void> {
  const ctx: Ctx = { prompt, team: gateway.scope().principal.team, trail: [] };
  try {
    const answer = await handle(ctx);
    console.log(`✔ ${answer}   [${ctx.trail.join(' → ')}]`);
  } catch (error) {
    if (PolicyDeniedError.isInstance(error)) console.log(`✘ ${error.code}: ${error.message}`);
    else throw error;
  }
}

console.log('Gatehouse chain demo: timing → teamsOnly → shout → handler\n');
await gateway.run({ principal: { team: 'risk', user: 'ana' } }, () => ask('summarise the contract'));
await ask('who am I?');
await gateway.run({ principal: { team: 'payments' } }, async () => {
  await Promise.all([ask('first'), gateway.run({ principal: { user: 'bo' } }, () => ask('nested scope'))]);
});
