/**
 * The SMS provider's webhooks (issue 17 items 1 and 4). Twilio's inbound-SMS and delivery-status
 * callbacks are accepted only with a valid X-Twilio-Signature over the URL Twilio called
 * (webhookBaseUrl + path + query) and the form fields; anything else is 403 and changes nothing.
 * With the sink, /sms/sink/inbound stands in for a patient's reply and answers only loopback.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config';
import type { Logger } from '../log';
import type { GatewayService } from '../service';
import { TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH } from '../sms/twilio';
import { verifyTwilioSignature } from '../sms/twilio-signature';
import { readForm, reply, type Route } from './server';

/** Twilio's MessageStatus values: the ones that end a text's journey. */
const DELIVERED = new Set(['delivered']);
const FAILED = new Set(['undelivered', 'failed']);
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export function webhookRoutes(config: GatewayConfig, service: GatewayService, log: Logger): Route[] {
  const sms = config.sms;
  if (sms.provider === 'sink') {
    return [
      async (req, res, path) => {
        if (path !== '/sms/sink/inbound' || req.method !== 'POST') return false;
        if (!isLoopback(req)) return (reply(res, 403, 'text/plain', 'forbidden'), true);
        const form = await readForm(req);
        const get = (k: string) => form?.find(([n]) => n === k)?.[1];
        const from = get('From');
        if (!form || from === undefined) return (reply(res, 400, 'text/plain', 'From and Body, form-encoded'), true);
        await service.inboundSms(from, get('Body') ?? '');
        reply(res, 200, 'text/plain', 'ok');
        return true;
      },
    ];
  }
  const verified = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const form = await readForm(req);
    const query = (req.url ?? '').slice(path.length);
    const url = `${sms.webhookBaseUrl}${path}${query}`;
    const header = req.headers['x-twilio-signature'];
    if (!form || !verifyTwilioSignature(sms.authToken, url, form, typeof header === 'string' ? header : undefined)) {
      log('warn', 'webhook-rejected', { path });
      reply(res, 403, 'text/plain', 'forbidden');
      return null;
    }
    return new Map(form);
  };
  return [
    async (req, res, path) => {
      if (path !== TWILIO_INBOUND_PATH || req.method !== 'POST') return false;
      const form = await verified(req, res, path);
      if (!form) return true;
      await service.inboundSms(form.get('From') ?? '', form.get('Body') ?? '');
      reply(res, 200, 'text/xml', EMPTY_TWIML);
      return true;
    },
    async (req, res, path) => {
      if (path !== TWILIO_STATUS_PATH || req.method !== 'POST') return false;
      const form = await verified(req, res, path);
      if (!form) return true;
      const sid = form.get('MessageSid') ?? '';
      const status = form.get('MessageStatus') ?? '';
      if (DELIVERED.has(status)) service.providerStatus(sid, 'delivered');
      else if (FAILED.has(status)) service.providerStatus(sid, 'failed', form.get('ErrorCode'));
      reply(res, 204, 'text/plain', '');
      return true;
    },
  ];
}

function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
}
