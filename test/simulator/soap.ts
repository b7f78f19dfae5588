import { escapeXml } from './xml.js';

/** Namespace prefixes used in every response; declared once on the envelope. */
export const NAMESPACES = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  ter: 'http://www.onvif.org/ver10/error',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsrfr: 'http://docs.oasis-open.org/wsrf/r-2',
  tns1: 'http://www.onvif.org/ver10/topics',
} as const;

const NAMESPACE_DECLARATIONS = Object.entries(NAMESPACES)
  .map(([prefix, uri]) => `xmlns:${prefix}="${uri}"`)
  .join(' ');

export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

export function envelope(body: string, headers = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NAMESPACE_DECLARATIONS}>` +
    `<s:Header>${headers}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A SOAP 1.2 fault. `subcodes` are qualified names such as `ter:ActionNotSupported`, outermost first. */
export interface SoapFault {
  code: 'Sender' | 'Receiver';
  subcodes: string[];
  reason: string;
}

/** HTTP status for a fault, as the SOAP 1.2 HTTP binding prescribes. */
export function faultStatus(fault: SoapFault): number {
  return fault.code === 'Sender' ? 400 : 500;
}

export function faultBody(fault: SoapFault): string {
  const subcodes = fault.subcodes.reduceRight(
    (inner, subcode) => `<s:Subcode><s:Value>${subcode}</s:Value>${inner}</s:Subcode>`,
    '',
  );
  return (
    `<s:Fault><s:Code><s:Value>s:${fault.code}</s:Value>${subcodes}</s:Code>` +
    `<s:Reason><s:Text xml:lang="en">${escapeXml(fault.reason)}</s:Text></s:Reason></s:Fault>`
  );
}

export const faults = {
  actionNotSupported: (action: string): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:ActionNotSupported'],
    reason: `Optional Action Not Implemented: ${action}`,
  }),
  notAuthorized: (): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:NotAuthorized'],
    reason: 'Sender not Authorized',
  }),
  invalidArgument: (reason: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['ter:InvalidArgVal'],
    reason,
  }),
  resourceUnknown: (reason: string): SoapFault => ({
    code: 'Sender',
    subcodes: ['wsrfr:ResourceUnknownFault'],
    reason,
  }),
  noSuchStream: (reason: string): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:Action', 'ter:StreamingNotSupported'],
    reason,
  }),
  tooManySubscriptions: (limit: number): SoapFault => ({
    code: 'Receiver',
    subcodes: ['ter:Action', 'ter:OutOfResources'],
    reason: `Maximum number of subscriptions (${limit}) reached`,
  }),
};
