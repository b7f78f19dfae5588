import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import { CameraTimeoutError, CameraTransportError, SoapFaultError, UnsafeCredentialsError } from '../errors.js';
import { digestAuthorization, pickChallenge } from './digest.js';
import { textOf } from './normalise.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Answers one HTTP Digest challenge with these. */
  credentials?: Credentials;
  maxBytes?: number;
  operation: string;
}

/**
 * One HTTP request with a hard deadline (connect + headers + body): a camera that accepts TCP and never answers
 * costs at most `timeoutMs`. Answers a 401 Digest challenge once when credentials are given.
 */
export async function httpRequest(url: URL, options: HttpOptions): Promise<HttpResult> {
  const first = await once(url, options, undefined);
  if (first.status !== 401 || !options.credentials) return first;
  const challenge = pickChallenge(first.headers['www-authenticate']);
  if (!challenge) return first;
  const authorization = digestAuthorization(
    challenge,
    options.credentials,
    options.method ?? 'GET',
    `${url.pathname}${url.search}`,
  );
  return once(url, options, authorization);
}

function once(url: URL, options: HttpOptions, authorization: string | undefined): Promise<HttpResult> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const lib = url.protocol === 'https:' ? https : http;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = Buffer.byteLength(options.body);
    if (authorization) headers.Authorization = authorization;
    const req = lib.request(url, { method: options.method ?? 'GET', headers, signal, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(new CameraTransportError(options.operation, `response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    function fail(err: unknown) {
      if (deadline.aborted) reject(new CameraTimeoutError(options.operation, options.timeoutMs));
      else if (err instanceof CameraTransportError) reject(err);
      else if (options.signal?.aborted) reject(new CameraTransportError(options.operation, 'aborted', { cause: err }));
      else {
        const e = err as NodeJS.ErrnoException;
        reject(new CameraTransportError(options.operation, e.code ?? e.message, { cause: err }));
      }
    }
    req.on('error', fail);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** XML 1.0 cannot carry C0 control characters other than tab, LF and CR, escaped or not. */
function hasXmlUnsafeChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Throws for credentials XML cannot carry at all; everything else is escaped where it is inserted. */
export function assertXmlSafe(camera: string, credentials: Credentials): void {
  if (hasXmlUnsafeChar(credentials.username)) throw new UnsafeCredentialsError(camera);
}

/**
 * WS-Security UsernameToken with PasswordDigest. `Created` is on the CAMERA's clock (our clock + measured offset):
 * strict cameras refuse tokens outside a window around their own time. The username is XML-escaped and the
 * password hashed as UTF-8 (the `onvif` package inserts the username raw and hashes the password as ASCII).
 */
export function wsSecurityHeader(credentials: Credentials, cameraNowMs: number): string {
  const nonce = randomBytes(16);
  const created = new Date(cameraNowMs).toISOString();
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(credentials.password, 'utf8')]))
    .digest('base64');
  return (
    '<wsse:Security s:mustUnderstand="1" ' +
    'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">' +
    `<wsse:UsernameToken><wsse:Username>${escapeXml(credentials.username)}</wsse:Username>` +
    '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
    `${digest}</wsse:Password>` +
    '<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">' +
    `${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

export const NS = {
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
} as const;

export type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  // Keep every value a string: normalise decides what "1", "true" or a date means.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export function parseXml(xml: string): XmlNode {
  return parser.parse(xml) as XmlNode;
}

/** Child element(s) as a list: fast-xml-parser gives one element as an object and several as an array. */
export function children(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return [];
  const v = (node as XmlNode)[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) =>
    typeof x === 'object' && x !== null ? (x as XmlNode) : { '#text': x },
  );
}

export function child(node: unknown, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

export interface SoapRequest {
  url: string;
  action: string;
  body: string;
  /** Extra header elements (WS-Addressing To, reference parameters). */
  headers?: string;
  credentials?: Credentials;
  /** Our clock + this = the camera's clock, for WS-Security `Created`. */
  cameraOffsetMs?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Sends one SOAP 1.2 request; returns the Body element. A SOAP Fault becomes a SoapFaultError. */
export async function soapCall(req: SoapRequest): Promise<{ body: XmlNode; raw: string }> {
  const security = req.credentials ? wsSecurityHeader(req.credentials, Date.now() + (req.cameraOffsetMs ?? 0)) : '';
  const envelope =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" ' +
    `xmlns:tev="${NS.tev}" xmlns:wsnt="${NS.wsnt}" xmlns:tds="${NS.tds}">` +
    `<s:Header>${security}<wsa:Action>${escapeXml(req.action)}</wsa:Action>${req.headers ?? ''}</s:Header>` +
    `<s:Body>${req.body}</s:Body></s:Envelope>`;
  const operation = req.action.split('/').pop() ?? req.action;
  const res = await httpRequest(new URL(req.url), {
    method: 'POST',
    headers: { 'Content-Type': `application/soap+xml; charset=utf-8; action="${req.action}"` },
    body: envelope,
    timeoutMs: req.timeoutMs,
    signal: req.signal,
    credentials: req.credentials,
    operation,
  });
  const raw = res.body.toString('utf8');
  let parsed: XmlNode;
  try {
    parsed = parseXml(raw);
  } catch (err) {
    throw new CameraTransportError(operation, `HTTP ${res.status}, response is not XML`, {
      cause: err,
      httpStatus: res.status,
    });
  }
  const body = child(child(parsed, 'Envelope'), 'Body');
  const fault = child(body, 'Fault');
  if (fault) {
    const codes: string[] = [];
    for (let code = child(fault, 'Code'); code; code = child(code, 'Subcode')) codes.push(textOf(child(code, 'Value')));
    const reason = textOf(child(child(fault, 'Reason'), 'Text')) || textOf(child(fault, 'faultstring'));
    throw new SoapFaultError(operation, codes.filter(Boolean).join('/') || 'unknown', reason, res.status);
  }
  if (!body || res.status >= 400) {
    throw new CameraTransportError(operation, `HTTP ${res.status} without a SOAP body`, { httpStatus: res.status });
  }
  return { body, raw };
}
