/**
 * The model providers: the real OpenAI and Anthropic APIs when both keys are set, otherwise the models testing
 * kit's provider server standing in for them (real SDK clients, real HTTP, scripted answers). The self-hosted,
 * OpenAI-compatible model is a second stand-in server, or `SELF_HOSTED_BASE_URL` (vLLM, Ollama, llama.cpp).
 */
import Anthropic from '@anthropic-ai/sdk';
import { createProviderServer, type ProviderServer, reply } from '@gatehouse/models/testing';
import OpenAI from 'openai';

/** The models each route uses; the script below answers requests for exactly these. */
export const modelNames = {
  documents: 'gpt-4o',
  documentsFallback: 'claude-haiku-4-5',
  contracts: 'claude-sonnet-4-6',
  triage: 'gpt-4o-mini',
  risk: 'claude-opus-4-6',
  selfHosted: process.env.SELF_HOSTED_MODEL ?? 'llama-3.1-70b-instruct',
};

/** How many 503s the primary of `documents` answers before it recovers (the retry covers one, the fallback the rest). */
export const outageLength = 2;

export interface Providers {
  mode: 'offline' | 'live';
  openai: OpenAI;
  anthropic: Anthropic;
  /** Undefined live without `SELF_HOSTED_BASE_URL`; the `internal` route then answers from OpenAI. */
  selfHosted: OpenAI | undefined;
  close(): Promise<void>;
}

/** Real clients with their default base URLs, or clients of the stand-in servers with the script queued. */
export async function createProviders(live: boolean): Promise<Providers> {
  if (live) {
    const base = process.env.SELF_HOSTED_BASE_URL;
    return {
      mode: 'live',
      openai: new OpenAI(),
      anthropic: new Anthropic(),
      selfHosted: base ? new OpenAI({ baseURL: base, apiKey: process.env.SELF_HOSTED_API_KEY ?? 'none' }) : undefined,
      close: async () => {},
    };
  }
  const cloud = await createProviderServer();
  const onPrem = await createProviderServer({ defaultModel: modelNames.selfHosted });
  script(cloud, onPrem);
  return {
    mode: 'offline',
    openai: new OpenAI({ baseURL: cloud.openaiBaseURL, apiKey: 'offline-openai-key' }),
    anthropic: new Anthropic({ baseURL: cloud.anthropicBaseURL, apiKey: 'offline-anthropic-key' }),
    selfHosted: new OpenAI({ baseURL: onPrem.openaiBaseURL, apiKey: 'offline-self-hosted-key' }),
    close: async () => {
      await Promise.all([cloud.close(), onPrem.close()]);
    },
  };
}

/**
 * What each model answers, in order, matched by model name so the steps cannot cross. Token counts are set so
 * that the costs look like real calls of this size.
 */
function script(cloud: ProviderServer, onPrem: ProviderServer): void {
  const model = (name: string) => ({ model: name });

  // Document parsing: the primary is down for a while; the fallback target answers.
  cloud.script(
    Array.from({ length: outageLength }, () => reply.error(503, { message: 'The server is overloaded' })),
    model(modelNames.documents),
  );
  cloud.script(
    reply.text(
      JSON.stringify({
        disputeId: 'D-88',
        merchant: 'Nordic Electronics AB',
        amountEur: 1249,
        reason: 'goods not received',
        cardholderContacted: true,
      }),
      { usage: { inputTokens: 1_420, outputTokens: 96 } },
    ),
    model(modelNames.documentsFallback),
  );

  // Contract analysis.
  cloud.script(
    reply.text(
      'Two clauses need attention: (1) §7.2 makes us liable for chargebacks above 0.9% of volume with no cap; ' +
        '(2) §11 lets the acquirer change interchange fees on 14 days notice. Recommend a liability cap and 60 days notice.',
      { usage: { inputTokens: 3_900, outputTokens: 180 } },
    ),
    model(modelNames.contracts),
  );

  // Internal question on the self-hosted model, which answers with a full card number (the guardrail redacts it).
  onPrem.script(
    reply.text(
      'Dispute D-88 was charged to card 4111 1111 1111 1111 (exp. 09/27); the customer was refunded on 24 Nov.',
      { usage: { inputTokens: 610, outputTokens: 41 } },
    ),
    model(modelNames.selfHosted),
  );

  // The fraud workflow: gatherer and notifier on `triage`, analyst on `risk`.
  cloud.script(
    [
      reply.toolCalls(
        [
          { name: 'db__get_account', arguments: { account: 'ACC-2291' } },
          { name: 'db__query_transactions', arguments: { account: 'ACC-2291', sinceHours: 24 } },
        ],
        { usage: { inputTokens: 820, outputTokens: 64 } },
      ),
      reply.toolCalls([{ name: 'transfer_to_analyst', arguments: {} }], {
        text: 'Four card-not-present payments in LT, NL and AE within 50 minutes; home country SE.',
        usage: { inputTokens: 1_640, outputTokens: 58 },
      }),
    ],
    model(modelNames.triage),
  );
  cloud.script(
    [
      reply.toolCalls(
        [{ name: 'github__search_commits', arguments: { repo: 'payments/card-auth', query: 'velocity' } }],
        { usage: { inputTokens: 2_350, outputTokens: 72 } },
      ),
      reply.toolCalls([{ name: 'transfer_to_notifier', arguments: {} }], {
        text:
          'Risk HIGH (score 0.94): a 1 EUR card test followed by 4,458 EUR across three countries in 48 minutes. ' +
          'Not auto-blocked because commit a41c9e2 raised the card-not-present velocity threshold to 6/hour.',
        usage: { inputTokens: 2_910, outputTokens: 140 },
      }),
    ],
    model(modelNames.risk),
  );
  cloud.script(
    [
      reply.toolCalls(
        [
          {
            name: 'jira__create_ticket',
            arguments: {
              project: 'FRAUD',
              summary: 'ACC-2291: card testing then 4,458 EUR in LT/NL/AE',
              description: 'Risk HIGH (0.94). Velocity threshold raised in a41c9e2; review.',
              priority: 'Highest',
            },
          },
        ],
        { usage: { inputTokens: 1_980, outputTokens: 88 } },
      ),
      reply.toolCalls(
        [
          {
            name: 'send_fraud_alert',
            arguments: {
              channel: '#fraud-ops',
              text: 'FRAUD-1042 (Highest): ACC-2291 card ending 4242, card testing then 4,458 EUR in LT/NL/AE. Block the card and call the customer.',
            },
          },
        ],
        { usage: { inputTokens: 2_120, outputTokens: 70 } },
      ),
      reply.text('Opened FRAUD-1042 and alerted #fraud-ops; the card should be blocked pending the customer call.', {
        usage: { inputTokens: 2_260, outputTokens: 31 },
      }),
    ],
    model(modelNames.triage),
  );
}
