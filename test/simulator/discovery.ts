import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { child, childNames, parseXml, text, escapeXml } from './xml.js';

const WS_DISCOVERY_GROUP = '239.255.255.250';
const WS_DISCOVERY_PORT = 3702;

export interface DiscoverableCamera {
  /** `urn:uuid:...`, unique per camera. */
  endpointReference: string;
  xaddr: string;
  scopes: string[];
  /** A hung, refusing or rebooting camera does not answer probes either. */
  isReachable(): boolean;
}

function probeMatchesXml(camera: DiscoverableCamera, relatesTo: string, messageNumber: number): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<SOAP-ENV:Header>' +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:RelatesTo>${escapeXml(relatesTo)}</wsa:RelatesTo>` +
    '<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>' +
    '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>' +
    `<d:AppSequence InstanceId="1" MessageNumber="${messageNumber}"/>` +
    '</SOAP-ENV:Header><SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>' +
    `<wsa:EndpointReference><wsa:Address>${camera.endpointReference}</wsa:Address></wsa:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter</d:Types>' +
    `<d:Scopes>${camera.scopes.map(escapeXml).join(' ')}</d:Scopes>` +
    `<d:XAddrs>${escapeXml(camera.xaddr)}</d:XAddrs>` +
    '<d:MetadataVersion>1</d:MetadataVersion>' +
    '</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>'
  );
}

/** Whether a Probe's `Types` asks for something an ONVIF camera is (no Types means "anything"). */
function wantsCamera(types: string | undefined): boolean {
  if (!types || types.trim() === '') return true;
  return types.split(/\s+/).some((type) => /(^|:)(NetworkVideoTransmitter|Device)$/.test(type));
}

/**
 * Answers WS-Discovery Probes for a set of cameras. One socket per simulator, bound to 3702 with reuseAddr so
 * several simulators (parallel test files) and real tools can share the port; each camera answers with its own
 * EndpointReference and XAddrs.
 */
export class DiscoveryResponder {
  private readonly recentProbeIds: string[] = [];
  private messageNumber = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly cameras: readonly DiscoverableCamera[],
    private readonly log: (message: string) => void,
  ) {}

  static async start(
    cameras: readonly DiscoverableCamera[],
    log: (message: string) => void,
  ): Promise<DiscoveryResponder> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(WS_DISCOVERY_PORT, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const responder = new DiscoveryResponder(socket, cameras, log);
    socket.setMulticastLoopback(true);
    // Join on every IPv4 interface: a probe sent by a client on this host leaves through the default route
    // (eth0 here) and comes back through multicast loopback there, while others may use lo.
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) {
        if (address.family !== 'IPv4') continue;
        try {
          socket.addMembership(WS_DISCOVERY_GROUP, address.address);
        } catch (error) {
          log(`ws-discovery: cannot join ${WS_DISCOVERY_GROUP} on ${address.address}: ${(error as Error).message}`);
        }
      }
    }
    socket.on('message', (message, remote) => responder.onMessage(message, remote));
    socket.on('error', (error) => log(`ws-discovery socket error: ${error.message}`));
    return responder;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(message: Buffer, remote: RemoteInfo): void {
    let probe: { messageId: string; types: string | undefined } | null;
    try {
      probe = this.readProbe(message.toString('utf8'));
    } catch (error) {
      this.log(`ws-discovery: ignoring unreadable datagram from ${remote.address}: ${(error as Error).message}`);
      return;
    }
    if (probe === null || !wantsCamera(probe.types)) return;
    // With membership on several interfaces the same probe can arrive more than once.
    if (this.recentProbeIds.includes(probe.messageId)) return;
    this.recentProbeIds.push(probe.messageId);
    if (this.recentProbeIds.length > 64) this.recentProbeIds.shift();
    for (const camera of this.cameras) {
      if (!camera.isReachable()) continue;
      this.messageNumber += 1;
      const reply = Buffer.from(probeMatchesXml(camera, probe.messageId, this.messageNumber));
      this.socket.send(reply, remote.port, remote.address, (error) => {
        if (error) this.log(`ws-discovery: reply to ${remote.address}:${remote.port} failed: ${error.message}`);
      });
    }
  }

  private readProbe(xml: string): { messageId: string; types: string | undefined } | null {
    const envelope = child(parseXml(xml), 'Envelope');
    const header = child(envelope, 'Header');
    const body = child(envelope, 'Body');
    if (!childNames(body).includes('Probe')) return null;
    return {
      messageId: text(child(header, 'MessageID')) ?? `anonymous-${randomUUID()}`,
      types: text(child(child(body, 'Probe'), 'Types')),
    };
  }
}
