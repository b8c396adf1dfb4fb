/**
 * The fraud-detection workflow: a gatherer reads the account and its transactions, an analyst scores the risk
 * (and checks whether a recent rule change explains why nothing was blocked), a notifier opens a ticket and
 * alerts the fraud team. The alert goes out only after a person approves it: the session pauses, checkpointed.
 */
import { defineAgent, tool } from '@gatehouse/agents';
import type { ToolsApi } from '@gatehouse/tools';
import { z } from 'zod';

/** The three agents, the notifier's alert posting to Slack through the tools layer (as the notifier). */
export function fraudAgents(tools: Pick<ToolsApi, 'callTool'>) {
  const sendFraudAlert = tool({
    name: 'send_fraud_alert',
    description: 'Alert the fraud operations team in Slack. A person approves each alert before it is sent.',
    input: z.object({ channel: z.string().startsWith('#'), text: z.string().min(1) }),
    needsApproval: true,
    execute: async ({ channel, text }) => {
      const result = await tools.callTool('slack__post_message', { channel, text });
      return result.content;
    },
  });

  const notifier = defineAgent({
    name: 'notifier',
    description: 'Opens the fraud ticket and alerts the fraud team',
    instructions: 'Open a FRAUD ticket with the assessment, then alert #fraud-ops. Be brief.',
    model: 'triage',
    tools: ['jira__create_ticket', sendFraudAlert],
  });
  const analyst = defineAgent({
    name: 'analyst',
    description: 'Scores the fraud risk of an account from the gathered data',
    instructions:
      'Score the fraud risk from 0 to 1 and explain it. Check recent changes to the card-auth rules that could explain why the payments were not blocked. Then hand over to the notifier.',
    model: 'risk',
    tools: ['github__*', 'db__query_transactions'],
    handoffs: [notifier],
  });
  const gatherer = defineAgent({
    name: 'gatherer',
    description: 'Collects the account and its recent transactions',
    instructions:
      'Fetch the account and its transactions of the last 24 hours, summarise them, hand over to the analyst.',
    model: 'triage',
    tools: ['db__*'],
    handoffs: [analyst],
    limits: { steps: 10 },
  });
  return { gatherer, analyst, notifier };
}
