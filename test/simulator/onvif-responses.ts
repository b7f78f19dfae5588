import { TOKENS, topicSetXml, type MotionVariant } from './event-topics.js';
import { escapeXml } from './xml.js';

/** What the response builders need to know about one camera. */
export interface CameraDescription {
  id: string;
  /** `http://host:port`, as advertised in XAddrs. */
  baseUrl: string;
  motionVariant: MotionVariant;
  serialNumber: string;
  /** False when this simulator has no RTSP server: the device then says it cannot stream, as a real one would. */
  streaming: boolean;
}

export const SERVICE_PATHS = {
  device: '/onvif/device_service',
  media: '/onvif/media_service',
  events: '/onvif/events_service',
  subscriptionPrefix: '/onvif/subscription/',
  snapshot: '/onvif/snapshot',
} as const;

export const VIDEO = { width: 640, height: 360, fps: 10, bitrateKbps: 256 } as const;

export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function dateTimeXml(date: Date): string {
  return (
    `<tt:Time><tt:Hour>${date.getUTCHours()}</tt:Hour><tt:Minute>${date.getUTCMinutes()}</tt:Minute>` +
    `<tt:Second>${date.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${date.getUTCFullYear()}</tt:Year><tt:Month>${date.getUTCMonth() + 1}</tt:Month>` +
    `<tt:Day>${date.getUTCDate()}</tt:Day></tt:Date>`
  );
}

export function systemDateAndTime(cameraNowMs: number): string {
  const now = new Date(cameraNowMs);
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
    '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
    `<tt:UTCDateTime>${dateTimeXml(now)}</tt:UTCDateTime>` +
    `<tt:LocalDateTime>${dateTimeXml(now)}</tt:LocalDateTime>` +
    '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function deviceInformation(camera: CameraDescription): string {
  return (
    '<tds:GetDeviceInformationResponse>' +
    '<tds:Manufacturer>camhub</tds:Manufacturer><tds:Model>SimCam ONVIF Simulator</tds:Model>' +
    '<tds:FirmwareVersion>1.0.0-sim</tds:FirmwareVersion>' +
    `<tds:SerialNumber>${escapeXml(camera.serialNumber)}</tds:SerialNumber>` +
    `<tds:HardwareId>${escapeXml(camera.id)}</tds:HardwareId>` +
    '</tds:GetDeviceInformationResponse>'
  );
}

const SERVICE_NAMESPACES = {
  device: 'http://www.onvif.org/ver10/device/wsdl',
  media: 'http://www.onvif.org/ver10/media/wsdl',
  events: 'http://www.onvif.org/ver10/events/wsdl',
} as const;

const DEVICE_SERVICE_CAPABILITIES =
  '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/>' +
  '<tds:Security UsernameToken="true" HttpDigest="true"/>' +
  '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false"' +
  ' SystemLogging="false" FirmwareUpgrade="false"/></tds:Capabilities>';
const mediaServiceCapabilities = (streaming: boolean) =>
  '<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="1"/>' +
  `<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="${streaming}" RTP_RTSP_TCP="${streaming}"/>` +
  '</trt:Capabilities>';
const EVENTS_SERVICE_CAPABILITIES =
  '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true"' +
  ' WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="16"/>';

export function services(camera: CameraDescription, includeCapability: boolean, events = true): string {
  const entry = (namespace: string, path: string, capabilities: string) =>
    `<tds:Service><tds:Namespace>${namespace}</tds:Namespace><tds:XAddr>${camera.baseUrl}${path}</tds:XAddr>` +
    (includeCapability ? `<tds:Capabilities>${capabilities}</tds:Capabilities>` : '') +
    '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
  return (
    '<tds:GetServicesResponse>' +
    entry(SERVICE_NAMESPACES.device, SERVICE_PATHS.device, DEVICE_SERVICE_CAPABILITIES) +
    entry(SERVICE_NAMESPACES.media, SERVICE_PATHS.media, mediaServiceCapabilities(camera.streaming)) +
    (events ? entry(SERVICE_NAMESPACES.events, SERVICE_PATHS.events, EVENTS_SERVICE_CAPABILITIES) : '') +
    '</tds:GetServicesResponse>'
  );
}

export function serviceCapabilities(service: 'device' | 'media' | 'events', camera: CameraDescription): string {
  const [prefix, capabilities] =
    service === 'device'
      ? ['tds', DEVICE_SERVICE_CAPABILITIES]
      : service === 'media'
        ? ['trt', mediaServiceCapabilities(camera.streaming)]
        : ['tev', EVENTS_SERVICE_CAPABILITIES];
  return `<${prefix}:GetServiceCapabilitiesResponse>${capabilities}</${prefix}:GetServiceCapabilitiesResponse>`;
}

export function capabilities(camera: CameraDescription, events = true): string {
  return (
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
    `<tt:Device><tt:XAddr>${camera.baseUrl}${SERVICE_PATHS.device}</tt:XAddr>` +
    '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration>' +
    '<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
    '<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>' +
    '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
    '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
    '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
    '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>' +
    '<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>' +
    '<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>' +
    '<tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>' +
    (events
      ? `<tt:Events><tt:XAddr>${camera.baseUrl}${SERVICE_PATHS.events}</tt:XAddr>` +
        '<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>' +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport>' +
        '<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>' +
        '</tt:Events>'
      : '') +
    `<tt:Media><tt:XAddr>${camera.baseUrl}${SERVICE_PATHS.media}</tt:XAddr>` +
    `<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>${camera.streaming}</tt:RTP_TCP>` +
    `<tt:RTP_RTSP_TCP>${camera.streaming}</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
    '</tds:Capabilities></tds:GetCapabilitiesResponse>'
  );
}

export function scopes(camera: CameraDescription): string[] {
  return [
    ...(!camera.streaming
      ? []
      : ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/Profile/Streaming']),
    'onvif://www.onvif.org/hardware/SimCam',
    `onvif://www.onvif.org/name/${encodeURIComponent(camera.id)}`,
    'onvif://www.onvif.org/location/camhub-simulator',
  ];
}

export function scopesResponse(camera: CameraDescription): string {
  const items = scopes(camera)
    .map((scope) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${scope}</tt:ScopeItem></tds:Scopes>`)
    .join('');
  return `<tds:GetScopesResponse>${items}</tds:GetScopesResponse>`;
}

export function hostname(camera: CameraDescription): string {
  return (
    '<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>' +
    `<tt:Name>${escapeXml(camera.id)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`
  );
}

function profileXml(element: string): string {
  return (
    `<${element} token="${TOKENS.profile}" fixed="true"><tt:Name>MainStream</tt:Name>` +
    `<tt:VideoSourceConfiguration token="${TOKENS.videoSourceConfiguration}"><tt:Name>VideoSourceConfig</tt:Name>` +
    `<tt:UseCount>1</tt:UseCount><tt:SourceToken>${TOKENS.videoSource}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${VIDEO.width}" height="${VIDEO.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="${TOKENS.videoEncoderConfiguration}"><tt:Name>VideoEncoderConfig</tt:Name>` +
    '<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>' +
    `<tt:Resolution><tt:Width>${VIDEO.width}</tt:Width><tt:Height>${VIDEO.height}</tt:Height></tt:Resolution>` +
    '<tt:Quality>5</tt:Quality>' +
    `<tt:RateControl><tt:FrameRateLimit>${VIDEO.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${VIDEO.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${VIDEO.fps * 2}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
    '<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
    `<tt:VideoAnalyticsConfiguration token="${TOKENS.videoAnalyticsConfiguration}"><tt:Name>Analytics</tt:Name>` +
    '<tt:UseCount>1</tt:UseCount><tt:AnalyticsEngineConfiguration/><tt:RuleEngineConfiguration/>' +
    `</tt:VideoAnalyticsConfiguration></${element}>`
  );
}

export function profiles(): string {
  return `<trt:GetProfilesResponse>${profileXml('trt:Profiles')}</trt:GetProfilesResponse>`;
}

export function profile(): string {
  return `<trt:GetProfileResponse>${profileXml('trt:Profile')}</trt:GetProfileResponse>`;
}

export function videoSources(): string {
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${TOKENS.videoSource}">` +
    `<tt:Framerate>${VIDEO.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${VIDEO.width}</tt:Width><tt:Height>${VIDEO.height}</tt:Height></tt:Resolution>` +
    '</trt:VideoSources></trt:GetVideoSourcesResponse>'
  );
}

function mediaUri(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}

export function streamUri(uri: string): string {
  return `<trt:GetStreamUriResponse>${mediaUri(uri)}</trt:GetStreamUriResponse>`;
}

export function snapshotUri(uri: string): string {
  return `<trt:GetSnapshotUriResponse>${mediaUri(uri)}</trt:GetSnapshotUriResponse>`;
}

export function eventProperties(variant: MotionVariant): string {
  return (
    '<tev:GetEventPropertiesResponse>' +
    '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
    topicSetXml(variant) +
    '<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>' +
    '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>' +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
    '</tev:GetEventPropertiesResponse>'
  );
}

export function subscriptionCreated(address: string, cameraNowMs: number, terminationMs: number): string {
  return (
    '<tev:CreatePullPointSubscriptionResponse>' +
    `<tev:SubscriptionReference><wsa:Address>${escapeXml(address)}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${isoTime(cameraNowMs)}</wsnt:CurrentTime>` +
    `<wsnt:TerminationTime>${isoTime(terminationMs)}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

export function renewed(cameraNowMs: number, terminationMs: number): string {
  return (
    `<wsnt:RenewResponse><wsnt:TerminationTime>${isoTime(terminationMs)}</wsnt:TerminationTime>` +
    `<wsnt:CurrentTime>${isoTime(cameraNowMs)}</wsnt:CurrentTime></wsnt:RenewResponse>`
  );
}

/** `times` is omitted in the `no-termination-time` fault, as some firmware does. */
export function pulledMessages(
  messagesXml: string,
  times: { cameraNowMs: number; terminationMs: number } | null,
): string {
  const header = times
    ? `<tev:CurrentTime>${isoTime(times.cameraNowMs)}</tev:CurrentTime>` +
      `<tev:TerminationTime>${isoTime(times.terminationMs)}</tev:TerminationTime>`
    : '';
  return `<tev:PullMessagesResponse>${header}${messagesXml}</tev:PullMessagesResponse>`;
}
