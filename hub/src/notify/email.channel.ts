import nodemailer from 'nodemailer';
import { BadRequestError } from '../errors.js';
import { DeliveryError, type NotificationChannel } from './channel.js';

/** E-mail over SMTP (nodemailer): the message as text, the snapshot attached as a JPEG. */
export interface EmailConfig {
  host: string;
  port: number;
  /** "starttls": plain connection upgraded, refused if the server cannot; "tls": TLS from the start (465); "none". */
  security: 'starttls' | 'tls' | 'none';
  username?: string;
  password?: string;
  from: string;
  to: string[];
}

const ADDRESS = /^[^\s@<>",]+@[^\s@<>",]+$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/;

/** SMTP reply classes: 4xx is "try again later", 5xx is "this will not work". Socket trouble is temporary. */
function classify(err: Error & { responseCode?: number; code?: string }): DeliveryError {
  const what = `smtp ${err.code ?? 'error'}${err.responseCode ? ` ${err.responseCode}` : ''}: ${err.message}`.slice(
    0,
    500,
  );
  if (err.code === 'EAUTH') return new DeliveryError(what, false, { reason: 'smtp_auth', status: err.responseCode });
  if (err.responseCode !== undefined) {
    return new DeliveryError(what, err.responseCode < 500, {
      reason: err.responseCode < 500 ? 'smtp_temporary' : 'smtp_permanent',
      status: err.responseCode,
    });
  }
  if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') {
    return new DeliveryError(what, false, { reason: 'smtp_message_refused' });
  }
  return new DeliveryError(what, true, { reason: 'unreachable', params: { service: 'smtp' } });
}

export function createEmailChannel(opts: { timeoutMs: number; ca?: string }): NotificationChannel<EmailConfig> {
  return {
    name: 'email',
    secretFields: ['password'],

    parseConfig(raw) {
      const c = (raw ?? {}) as Record<string, unknown>;
      const bad = (what: string) => new BadRequestError('invalid_target', what);
      if (typeof c.host !== 'string' || !HOST.test(c.host)) throw bad('config.host: the SMTP server name');
      const security = c.security ?? 'starttls';
      if (security !== 'starttls' && security !== 'tls' && security !== 'none') {
        throw bad('config.security: starttls, tls or none');
      }
      const port = c.port ?? (security === 'tls' ? 465 : 587);
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
        throw bad('config.port: 1-65535');
      if (typeof c.from !== 'string' || !ADDRESS.test(c.from.replace(/^.*<(.+)>\s*$/, '$1'))) {
        throw bad('config.from: the sender address');
      }
      const to = c.to;
      if (
        !Array.isArray(to) ||
        to.length === 0 ||
        to.length > 100 ||
        !to.every((a) => typeof a === 'string' && ADDRESS.test(a))
      ) {
        throw bad('config.to: a list of 1-100 addresses');
      }
      if (c.username !== undefined && (typeof c.username !== 'string' || c.username.length > 320))
        throw bad('config.username');
      if (c.password !== undefined && (typeof c.password !== 'string' || c.password.length > 1000))
        throw bad('config.password');
      const out: EmailConfig = { host: c.host, port, security, from: c.from, to: to as string[] };
      if (c.username) out.username = c.username as string;
      if (c.password) out.password = c.password as string;
      return out;
    },

    async send(config, message) {
      const transport = nodemailer.createTransport({
        host: config.host,
        port: config.port,
        secure: config.security === 'tls',
        requireTLS: config.security === 'starttls',
        ignoreTLS: config.security === 'none',
        auth: config.username ? { user: config.username, pass: config.password ?? '' } : undefined,
        tls: opts.ca ? { ca: opts.ca } : undefined,
        connectionTimeout: opts.timeoutMs,
        greetingTimeout: opts.timeoutMs,
        socketTimeout: opts.timeoutMs,
      });
      try {
        const info = await transport.sendMail({
          from: config.from,
          to: config.to,
          subject: message.message.subject,
          text: message.message.text,
          headers: { 'x-camhub-delivery': message.deliveryId },
          attachments: message.snapshot
            ? [{ filename: 'snapshot.jpg', content: message.snapshot, contentType: 'image/jpeg' }]
            : [],
        });
        // Some servers accept the message but refuse some recipients: a partial delivery is still a delivery.
        if (info.accepted.length === 0)
          throw new DeliveryError(`smtp refused every recipient: ${info.response}`, false, {
            reason: 'smtp_message_refused',
          });
        return { status: Number(/^\d{3}/.exec(info.response ?? '')?.[0] ?? 250) };
      } catch (err) {
        if (err instanceof DeliveryError) throw err;
        throw classify(err as Error);
      } finally {
        transport.close();
      }
    },
  };
}
