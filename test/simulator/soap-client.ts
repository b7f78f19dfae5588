import { createHash, randomBytes } from 'node:crypto';
import { parseDigestParams, passwordDigest } from './auth.js';
import { child, childNames, parseXml, text, type XmlNode } from './xml.js';

/**
 * A deliberately small ONVIF SOAP client for tests and benchmarks that need what the `onvif` package cannot do:
 * custom PullMessages timeouts, hand-made WS-Security `Created` times (clock-skew tests), raw fault inspection.
 */
export interface SoapCallOptions {
  username?: string;
  password?: string;
  /** Added to the host clock for WS-Security `Created`: set it to the camera's offset to authenticate. */
  clockOffsetMs?: number;
  /** Send no WS-Security header (the camera then answers 401 with a Digest challenge). */
  noWsSecurity?: boolean;
  timeoutMs?: number;
}

export interface SoapResult {
  status: number;
  xml: string;
  /** The first element of the Body, by local name. */
  action: string;
  /** That element, parsed (namespace prefixes removed). */
  response: XmlNode | undefined;
  /** `ter:NotAuthorized`-style subcodes (innermost last) when the answer is a SOAP Fault. */
  faultSubcodes: string[] | null;
}

export function wsSecurityHeader(username: string, password: string, clockOffsetMs = 0): string {
  const nonce = randomBytes(16).toString('base64');
  const created = new Date(Date.now() + clockOffsetMs).toISOString();
  return (
    '<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"' +
    ' xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">' +
    `<wsse:UsernameToken><wsse:Username>${username}</wsse:Username>` +
    '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
    `${passwordDigest(nonce, created, password)}</wsse:Password>` +
    '<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">' +
    `${nonce}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

function soapEnvelope(body: string, header: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"' +
    ' xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tev="http://www.onvif.org/ver10/events/wsdl"' +
    ' xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">' +
    `<s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

function faultSubcodes(fault: XmlNode | undefined): string[] {
  const codes: string[] = [];
  let subcode = child(child(fault, 'Code'), 'Subcode');
  while (subcode !== undefined) {
    codes.push(text(child(subcode, 'Value')) ?? '');
    subcode = child(subcode, 'Subcode');
  }
  return codes;
}

/** POSTs one SOAP request; `body` is the Body's inner XML using the tds/trt/tev/wsnt prefixes. */
export async function soapCall(url: string, body: string, options: SoapCallOptions = {}): Promise<SoapResult> {
  const header =
    options.noWsSecurity || options.username === undefined
      ? ''
      : wsSecurityHeader(options.username, options.password ?? '', options.clockOffsetMs);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/soap+xml; charset=utf-8' },
    body: soapEnvelope(body, header),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const xml = await response.text();
  if (!xml.trim().startsWith('<')) {
    return { status: response.status, xml, action: '', response: undefined, faultSubcodes: null };
  }
  const soapBody = child(child(parseXml(xml), 'Envelope'), 'Body');
  const action = childNames(soapBody)[0] ?? '';
  return {
    status: response.status,
    xml,
    action,
    response: child(soapBody, action),
    faultSubcodes: action === 'Fault' ? faultSubcodes(child(soapBody, 'Fault')) : null,
  };
}

/** GET (or any method) with HTTP Digest: the first request collects the challenge, the second answers it. */
export async function digestFetch(
  url: string,
  credentials: { username: string; password: string },
  init: { method?: string; timeoutMs?: number } = {},
): Promise<Response> {
  const method = init.method ?? 'GET';
  const signal = () => AbortSignal.timeout(init.timeoutMs ?? 15_000);
  const first = await fetch(url, { method, signal: signal() });
  const challenge = first.headers.get('www-authenticate');
  if (first.status !== 401 || challenge === null) return first;
  await first.arrayBuffer();
  const params = parseDigestParams(challenge);
  const realm = params.get('realm') ?? '';
  const nonce = params.get('nonce') ?? '';
  const uri = new URL(url).pathname + new URL(url).search;
  const md5 = (value: string) => createHash('md5').update(value).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${credentials.username}:${realm}:${credentials.password}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  const authorization =
    `Digest username="${credentials.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
  return fetch(url, { method, headers: { Authorization: authorization }, signal: signal() });
}

/** Simple items of a parsed `tt:Message` part (`Source` or `Data`) as a name → value record. */
export function simpleItems(part: XmlNode | undefined): Record<string, string> {
  if (part === undefined || typeof part === 'string') return {};
  const items = part.SimpleItem;
  const list = Array.isArray(items) ? items : items === undefined ? [] : [items];
  return Object.fromEntries(
    list.map((item) => {
      const node = item as Record<string, string>;
      return [node['@_Name'] ?? '', node['@_Value'] ?? ''];
    }),
  );
}

export interface PulledNotification {
  topic: string;
  utcTime: string;
  propertyOperation: string;
  source: Record<string, string>;
  data: Record<string, string>;
}

/** The notifications of a parsed PullMessagesResponse. */
export function notificationsOf(pullResponse: XmlNode | undefined): PulledNotification[] {
  if (pullResponse === undefined || typeof pullResponse === 'string') return [];
  const raw = pullResponse.NotificationMessage;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((notification) => {
    const message = child(child(notification as XmlNode, 'Message'), 'Message');
    const attributes = (typeof message === 'object' ? message : {}) as Record<string, unknown>;
    return {
      topic: (text(child(notification as XmlNode, 'Topic')) ?? '').trim(),
      utcTime: String(attributes['@_UtcTime'] ?? ''),
      propertyOperation: String(attributes['@_PropertyOperation'] ?? ''),
      source: simpleItems(child(message, 'Source')),
      data: simpleItems(child(message, 'Data')),
    };
  });
}
