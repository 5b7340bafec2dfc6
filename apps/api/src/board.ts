import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { redactedUrl, type WebhookJobData, type WebhookQueue } from '@datagen/core';

/**
 * The webhook queue on bull-board: each delivery with its event, its
 * attempts and the reason of its last failure. The target is shown without
 * its credentials, query or fragment, where a receiver may keep a token.
 */
export function webhookBoardAdapter(queue: WebhookQueue): BullMQAdapter {
  const adapter = new BullMQAdapter(queue, { description: 'Webhook deliveries: one job per event, retried for about a day' });
  adapter.setFormatter('data', (data: WebhookJobData) => ({ ...data, url: redactedUrl(data.url) }));
  return adapter;
}
