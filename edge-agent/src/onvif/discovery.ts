import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { DiscoveredCamera } from '@camhub/shared';
import type { Logger } from 'pino';
import { textOf } from './normalise.js';
import { child, children, parseXml } from './soap.js';

const MULTICAST = '239.255.255.250';
const PORT = 3702;

function probeMessage(messageId: string): Buffer {
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>' +
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
      'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
      'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
      `<s:Header><a:MessageID>urn:uuid:${messageId}</a:MessageID>` +
      '<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
      '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
      '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>',
  );
}

/** ProbeMatches → cameras. Malformed answers are skipped (logged), never thrown. */
export function parseProbeMatches(xml: string): DiscoveredCamera[] {
  const body = child(child(parseXml(xml), 'Envelope'), 'Body');
  return children(child(body, 'ProbeMatches'), 'ProbeMatch').flatMap((m) => {
    const endpoint = textOf(child(child(m, 'EndpointReference'), 'Address')).trim();
    const xaddrs = textOf(child(m, 'XAddrs')).trim().split(/\s+/).filter(Boolean).slice(0, 8);
    if (!endpoint || xaddrs.length === 0) return [];
    const scopes = textOf(child(m, 'Scopes')).split(/\s+/);
    const scope = (name: string) => {
      const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${name}/`));
      return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${name}/`.length)).slice(0, 128) : undefined;
    };
    const camera: DiscoveredCamera = { endpoint: endpoint.slice(0, 256), xaddrs: xaddrs.map((x) => x.slice(0, 512)) };
    const hardware = scope('hardware');
    const name = scope('name');
    if (hardware) camera.hardware = hardware;
    if (name) camera.name = name;
    return [camera];
  });
}

/**
 * WS-Discovery Probe with our own socket rather than onvif's `Discovery`, which emits an `error` event (fatal with no
 * listener) for any malformed answer on the network.
 */
export function probe(timeoutMs: number, logger: Logger): Promise<DiscoveredCamera[]> {
  return new Promise((resolve) => {
    const found = new Map<string, DiscoveredCamera>();
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (msg) => {
      try {
        for (const cam of parseProbeMatches(msg.toString('utf8'))) found.set(cam.endpoint, cam);
      } catch (err) {
        logger.debug({ err: (err as Error).message }, 'discovery: unreadable answer skipped');
      }
    });
    socket.on('error', (err) => {
      logger.warn({ err: err.message }, 'discovery socket error');
      finish();
    });
    let done = false;
    const timer = setTimeout(finish, timeoutMs);
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve([...found.values()]);
    }
    socket.bind(0, () => {
      const message = probeMessage(randomUUID());
      socket.send(message, PORT, MULTICAST, (err) => {
        if (err) {
          logger.warn({ err: err.message }, 'discovery probe could not be sent');
          finish();
        }
      });
    });
  });
}

/** Cameras found that no configured camera points at (same host and port as one of its XAddrs). */
export function unadopted(
  found: DiscoveredCamera[],
  configured: Array<{ host: string; port: number }>,
): DiscoveredCamera[] {
  const known = new Set(configured.map((c) => `${c.host}:${c.port}`));
  return found.filter(
    (cam) =>
      !cam.xaddrs.some((x) => {
        try {
          const url = new URL(x);
          return known.has(`${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`);
        } catch {
          return false;
        }
      }),
  );
}
