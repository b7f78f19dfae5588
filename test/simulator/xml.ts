import { XMLParser } from 'fast-xml-parser';
import { InvalidRequestError } from './errors.js';

/** A parsed XML element: fast-xml-parser gives strings for text-only elements, objects otherwise. */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] | string | undefined };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Routing is by local name: clients use arbitrary prefixes (or default namespaces) for the same elements.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export function parseXml(text: string): Record<string, XmlNode> {
  try {
    return parser.parse(text, true) as Record<string, XmlNode>;
  } catch (error) {
    throw new InvalidRequestError(`malformed XML: ${(error as Error).message}`);
  }
}

/** The child element `name` of `node` (the first one if repeated), or undefined. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const value = node[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The text content of an element that may also carry attributes. */
export function text(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  const inner = node['#text'];
  return typeof inner === 'string' ? inner : '';
}

/** Local names of the element children of `node`, in document order. */
export function childNames(node: XmlNode | undefined): string[] {
  if (node === undefined || typeof node === 'string') return [];
  return Object.keys(node).filter((key) => !key.startsWith('@_') && key !== '#text');
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
