import { escapeXml } from './xml.js';

/**
 * How a camera reports motion. Vendors disagree, and agents must cope with each shape:
 * - `cell-motion`: `tns1:RuleEngine/CellMotionDetector/Motion`, `IsMotion` true/false (ONVIF Profile S/T default)
 * - `motion-alarm`: `tns1:VideoSource/MotionAlarm`, `State` true/false, source `Source` (older Hikvision, Dahua)
 * - `region-motion`: `tns1:RuleEngine/MotionRegionDetector/Motion`, `State` "1"/"0" (Axis-style numeric flag)
 */
export type MotionVariant = 'cell-motion' | 'motion-alarm' | 'region-motion';
export const MOTION_VARIANTS: readonly MotionVariant[] = ['cell-motion', 'motion-alarm', 'region-motion'];

export type PropertyOperation = 'Initialized' | 'Changed' | 'Deleted';

/** One ONVIF notification before it is rendered for a particular subscription. */
export interface Notification {
  topic: string;
  source: Record<string, string>;
  data: Record<string, string>;
  propertyOperation: PropertyOperation;
  /** `UtcTime` as sent: normally an ISO time on the camera clock; tests may inject broken values. */
  utcTime: string;
}

export const TOKENS = {
  profile: 'profile_1',
  videoSource: 'video_src_1',
  videoSourceConfiguration: 'vsc_1',
  videoEncoderConfiguration: 'vec_1',
  videoAnalyticsConfiguration: 'vac_1',
  digitalInput: 'DIGIT_IN_0',
} as const;

type PropertyEvent = Pick<Notification, 'topic' | 'source' | 'data'>;

const RULE_SOURCE = {
  VideoSourceConfigurationToken: TOKENS.videoSourceConfiguration,
  VideoAnalyticsConfigurationToken: TOKENS.videoAnalyticsConfiguration,
};

export function motionEvent(variant: MotionVariant, active: boolean): PropertyEvent {
  switch (variant) {
    case 'cell-motion':
      return {
        topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
        source: { ...RULE_SOURCE, Rule: 'MyMotionDetectorRule' },
        data: { IsMotion: String(active) },
      };
    case 'motion-alarm':
      return {
        topic: 'tns1:VideoSource/MotionAlarm',
        source: { Source: TOKENS.videoSource },
        data: { State: String(active) },
      };
    case 'region-motion':
      return {
        topic: 'tns1:RuleEngine/MotionRegionDetector/Motion',
        source: { ...RULE_SOURCE, Rule: 'MyMotionRegionRule' },
        data: { State: active ? '1' : '0' },
      };
  }
}

export function tamperEvent(active: boolean): PropertyEvent {
  return {
    topic: 'tns1:RuleEngine/TamperDetector/Tamper',
    source: { ...RULE_SOURCE, Rule: 'MyTamperDetectorRule' },
    data: { IsTamper: String(active) },
  };
}

export function inputEvent(active: boolean): PropertyEvent {
  return {
    topic: 'tns1:Device/Trigger/DigitalInput',
    source: { InputToken: TOKENS.digitalInput },
    data: { LogicalState: String(active) },
  };
}

function simpleItems(items: Record<string, string>): string {
  return Object.entries(items)
    .map(([name, value]) => `<tt:SimpleItem Name="${escapeXml(name)}" Value="${escapeXml(value)}"/>`)
    .join('');
}

/** Namespace declarations for topic prefixes other than the envelope's `tns1`, so vendor topics stay valid XML. */
function topicPrefixDeclarations(topic: string): string {
  const prefixes = new Set([...topic.matchAll(/(?:^|\/)\s*([A-Za-z_][\w.-]*):/g)].map((match) => match[1]!));
  prefixes.delete('tns1');
  return [...prefixes].map((prefix) => ` xmlns:${prefix}="urn:camhub:simulator:vendor:${prefix}"`).join('');
}

export function notificationMessageXml(
  notification: Notification,
  subscriptionAddress: string,
  producerAddress: string,
): string {
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:SubscriptionReference><wsa:Address>${escapeXml(subscriptionAddress)}</wsa:Address></wsnt:SubscriptionReference>` +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"${topicPrefixDeclarations(notification.topic)}>` +
    `${escapeXml(notification.topic)}</wsnt:Topic>` +
    `<wsnt:ProducerReference><wsa:Address>${escapeXml(producerAddress)}</wsa:Address></wsnt:ProducerReference>` +
    '<wsnt:Message>' +
    `<tt:Message UtcTime="${escapeXml(notification.utcTime)}" PropertyOperation="${notification.propertyOperation}">` +
    `<tt:Source>${simpleItems(notification.source)}</tt:Source>` +
    `<tt:Data>${simpleItems(notification.data)}</tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

function messageDescription(source: Record<string, string>, data: Record<string, string>, type: string): string {
  const describe = (items: Record<string, string>, itemType: (name: string) => string) =>
    Object.keys(items)
      .map((name) => `<tt:SimpleItemDescription Name="${name}" Type="${itemType(name)}"/>`)
      .join('');
  return (
    '<tt:MessageDescription IsProperty="true">' +
    `<tt:Source>${describe(source, (name) => (name === 'Rule' ? 'xs:string' : 'tt:ReferenceToken'))}</tt:Source>` +
    `<tt:Data>${describe(data, () => type)}</tt:Data>` +
    '</tt:MessageDescription>'
  );
}

/** The wstop:TopicSet advertised by GetEventProperties: exactly the topics this camera emits. */
export function topicSetXml(variant: MotionVariant): string {
  const events = [motionEvent(variant, false), tamperEvent(false), inputEvent(false)];
  const tree = new Map<string, Map<string, string>>();
  for (const event of events) {
    const [root, ...rest] = event.topic.replace(/^tns1:/, '').split('/');
    const leafPath = rest.join('/');
    const dataType = variant === 'region-motion' && event.data.State !== undefined ? 'xs:int' : 'xs:boolean';
    const branch = tree.get(root!) ?? new Map<string, string>();
    branch.set(leafPath, messageDescription(event.source, event.data, dataType));
    tree.set(root!, branch);
  }
  const renderPath = (segments: string[], description: string): string => {
    const [head, ...tail] = segments;
    if (head === undefined) return '';
    return tail.length === 0
      ? `<${head} wstop:topic="true">${description}</${head}>`
      : `<${head}>${renderPath(tail, description)}</${head}>`;
  };
  let xml = '<wstop:TopicSet>';
  for (const [root, leaves] of tree) {
    xml += `<tns1:${root}>`;
    for (const [leafPath, description] of leaves) xml += renderPath(leafPath.split('/'), description);
    xml += `</tns1:${root}>`;
  }
  return `${xml}</wstop:TopicSet>`;
}
