import { describe, expect, it } from 'vitest';
import {
  canonicalTopic,
  fromLibraryMessage,
  normalise,
  parseBoolean,
  parseCameraTime,
  simpleItems,
} from './normalise.js';

/** A notification as our own parser gives it (strings, attributes without prefix). */
const note = (topic: string, data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  topic,
  utcTime: '2026-11-22T14:05:09.120Z',
  propertyOperation: 'Changed',
  source: { SimpleItem: { Name: 'VideoSourceToken', Value: 'vs1' } },
  data: { SimpleItem: Object.entries(data).map(([Name, Value]) => ({ Name, Value })) },
  ...extra,
});

describe('normalise: topic table', () => {
  it.each([
    ['tns1:VideoSource/MotionAlarm', { State: 'true' }, 'motion', true],
    ['tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: 'true' }, 'motion', true],
    ['tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: 'false' }, 'motion', false],
    ['tns1:RuleEngine/MotionRegionDetector/Motion', { State: '1' }, 'motion', true],
    ['tns1:RuleEngine/MotionRegionDetector/Motion', { State: 'true' }, 'motion', true],
    ['tns1:RuleEngine/MotionRegionDetector/Motion', { State: '0' }, 'motion', false],
    ['tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: 'true' }, 'tamper', true],
    ['tns1:RuleEngine/FieldDetector/ObjectsInside', { IsInside: 'true' }, 'intrusion', true],
    ['tns1:RuleEngine/LineDetector/Crossed', { ObjectId: '7' }, 'line_crossing', null],
    ['tns1:VideoSource/ImageTooBlurry', { State: 'true' }, 'tamper', true],
    ['tns1:VideoSource/ImageTooBlurry/AnalyticsService', { State: 'true' }, 'tamper', true],
    ['tns1:VideoSource/ImageTooDark/ImagingService', { State: 'true' }, 'tamper', true],
    ['tns1:VideoSource/ImageTooBright/RecordingService', { State: 'on' }, 'tamper', true],
    ['tns1:VideoSource/GlobalSceneChange/AnalyticsService', { State: 'true' }, 'tamper', true],
    ['tns1:VideoSource/GlobalSceneChange', { State: 'false' }, 'tamper', false],
    ['tns1:Device/Trigger/DigitalInput', { LogicalState: 'true' }, 'digital_input', true],
    ['tns1:Device/HardwareFailure/StorageFailure', { Failed: 'true' }, 'storage_failure', true],
    ['tns1:RuleEngine/CellMotionDetector/People', { IsPeople: 'true' }, 'object', true],
    ['tns1:RuleEngine/CellMotionDetector/Tamper', { IsTamper: 'true' }, 'tamper', true],
    ['tns1:RuleEngine/CellMotionDetector/LineCross', { IsLineCross: 'true' }, 'line_crossing', true],
    ['tns1:RuleEngine/CellMotionDetector/Intrusion', { IsIntrusion: 'true' }, 'intrusion', true],
    ['tns1:RuleEngine/MyRuleDetector/PeopleDetect', { State: '1' }, 'object', true],
    ['tns1:RuleEngine/MyRuleDetector/VehicleDetect', { State: '0' }, 'object', false],
    ['tns1:RuleEngine/MyRuleDetector/FaceDetect', { State: '1' }, 'object', true],
    ['tns1:RuleEngine/MyRuleDetector/DogCatDetect', { State: '1' }, 'object', true],
    ['tns1:RuleEngine/MyRuleDetector/MotionDetect', { State: '1' }, 'motion', true],
    ['tns1:RuleEngine/MyRuleDetector/Visitor', { State: '1' }, 'digital_input', true],
    ['tns1:VideoSource/SignalLoss', { State: 'true' }, 'video_loss', true],
  ] as const)('%s %j → %s', (topic, data, type, active) => {
    const n = normalise(note(topic, data));
    expect(n.type).toBe(type);
    expect(n.active).toBe(active);
  });

  it('maps an unknown topic to other and keeps the topic for source.topic', () => {
    const n = normalise(note('tns1:Vendor/Frobnicator/Thing', { Level: '3', Mode: 'x' }));
    expect(n.type).toBe('other');
    expect(n.topic).toBe('tns1:Vendor/Frobnicator/Thing');
    expect(n.active).toBeNull();
    expect(n.data).toMatchObject({ Level: '3', Mode: 'x' });
  });

  it.each([
    ['tns1:RuleEngine/MotionDetector/Motion', { IsMotion: 'true' }, 'motion', true, undefined],
    ['tns1:RuleEngine/MotionDetector/Motion', { IsMotion: 'false' }, 'motion', false, undefined],
    ['tns1:RuleEngine/HumanDetector/Human', { IsHuman: 'true' }, 'object', true, 'person'],
    ['tns1:RuleEngine/PeopleDetector/People', { IsPeople: 'false' }, 'object', false, 'person'],
    ['tns1:RuleEngine/VehicleDetector/Vehicle', { IsVehicle: 'true' }, 'object', true, 'vehicle'],
    ['tns1:RuleEngine/AnimalDetector/Animal', { State: '1' }, 'object', true, 'animal'],
    ['tns1:RuleEngine/HumanDetector', { Rule: 'gate', IsMotion: 'true' }, 'object', true, 'person'],
  ])('people/vehicle/animal rules: %s %o → %s %s (%s)', (topic, data, type, active, object) => {
    const n = normalise(note(topic, data));
    expect(n).toMatchObject({ type, active });
    expect(n.data.object).toBe(object);
  });

  it('attaches what kind of tamper or object it was', () => {
    expect(normalise(note('tns1:VideoSource/ImageTooDark', { State: 'true' })).data.tamper).toBe('dark');
    expect(normalise(note('tns1:RuleEngine/CellMotionDetector/People', { IsPeople: '1' })).data.object).toBe('person');
  });

  it('strips namespace prefixes (vendor ones too) and whitespace in topic text', () => {
    const n = normalise(note('\n   tns1:RuleEngine/ tnsaxis:CellMotionDetector/Motion \n', { IsMotion: 'true' }));
    expect(n.type).toBe('motion');
    expect(n.topic).toBe('tns1:RuleEngine/tnsaxis:CellMotionDetector/Motion');
    expect(canonicalTopic('a:B/c:D/E')).toBe('B/D/E');
  });

  it('reads the topic from parser shapes: {#text, Dialect} and {_}', () => {
    expect(
      normalise(
        note('', { IsMotion: '1' }, { topic: { '#text': 'tns1:RuleEngine/CellMotionDetector/Motion', Dialect: 'x' } }),
      ).type,
    ).toBe('motion');
    expect(normalise(note('', { State: '1' }, { topic: { _: 'tns1:VideoSource/MotionAlarm' } })).type).toBe('motion');
  });

  it('does not repeat the state item in data', () => {
    const n = normalise(note('tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: 'true' }));
    expect(n.data).toEqual({ VideoSourceToken: 'vs1' });
  });
});

describe('normalise: value shapes', () => {
  it.each([
    [true, true],
    ['true', true],
    [1, true],
    ['1', true],
    ['on', true],
    [' TRUE ', true],
    [false, false],
    ['false', false],
    [0, false],
    ['0', false],
    ['off', false],
    ['maybe', null],
    [2, null],
  ])('parseBoolean(%j) = %j', (value, expected) => {
    expect(parseBoolean(value)).toBe(expected);
  });

  it('accepts a single simpleItem object and an array, with or without $ attributes', () => {
    expect(simpleItems({ simpleItem: { $: { Name: 'IsMotion', Value: true } } })).toEqual([['IsMotion', true]]);
    expect(
      simpleItems({
        simpleItem: [{ $: { Name: 'A', Value: 1 } }, { Name: 'B', Value: 'x' }],
      }),
    ).toEqual([
      ['A', 1],
      ['B', 'x'],
    ]);
    expect(simpleItems(undefined)).toEqual([]);
  });

  it('understands a message as the onvif package parses it (booleans, numbers, Dates, single objects)', () => {
    const n = normalise(
      fromLibraryMessage({
        topic: { _: 'tns1:RuleEngine/MotionRegionDetector/Motion' },
        message: {
          message: {
            $: { UtcTime: new Date('2026-11-22T14:05:09.120Z'), PropertyOperation: 'Changed' },
            source: { simpleItem: { $: { Name: 'Source', Value: 'vs1' } } },
            data: { simpleItem: { $: { Name: 'State', Value: 1 } } },
          },
        },
      }),
    );
    expect(n).toMatchObject({ type: 'motion', active: true, initialized: false });
    expect(n.cameraTime?.toISOString()).toBe('2026-11-22T14:05:09.120Z');
  });

  it('treats bogus dates as missing, so the receive time is used', () => {
    expect(parseCameraTime('0000-00-00T00:00:00Z')).toBeNull();
    expect(parseCameraTime('1970-01-01T00:00:00Z')).toBeNull();
    expect(parseCameraTime(new Date(Number.NaN))).toBeNull();
    expect(parseCameraTime('')).toBeNull();
    expect(parseCameraTime('2026-11-22T14:05:09Z')?.toISOString()).toBe('2026-11-22T14:05:09.000Z');
    const n = normalise(note('tns1:VideoSource/MotionAlarm', { State: 'true' }, { utcTime: '0000-00-00T00:00:00Z' }));
    expect(n.cameraTime).toBeNull();
  });

  it('flags Initialized and Deleted property operations', () => {
    expect(
      normalise(note('tns1:VideoSource/MotionAlarm', { State: 'true' }, { propertyOperation: 'Initialized' }))
        .initialized,
    ).toBe(true);
    expect(
      normalise(note('tns1:VideoSource/MotionAlarm', { State: 'true' }, { propertyOperation: 'Deleted' })).deleted,
    ).toBe(true);
  });

  it('keys a condition by type, topic and source so different rules do not close each other', () => {
    const a = normalise(note('tns1:VideoSource/MotionAlarm', { State: 'true' }));
    const b = normalise({
      ...note('tns1:VideoSource/MotionAlarm', { State: 'true' }),
      source: { SimpleItem: { Name: 'VideoSourceToken', Value: 'vs2' } },
    });
    expect(a.key).not.toBe(b.key);
  });
});
