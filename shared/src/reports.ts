import { type Static, Type } from '@sinclair/typebox';
import { CameraIdSchema, IsoTimeSchema, SiteIdSchema } from './ids.js';

/**
 * The committee's report ("sơ kết"): what happened over a period at one, several or all sites, computed from the
 * stored history (events, alerts, camera status transitions), never from running counters.
 */
export const ReportQuerySchema = Type.Object(
  {
    from: IsoTimeSchema,
    to: IsoTimeSchema,
    site: Type.Optional(
      Type.Union([SiteIdSchema, Type.Array(SiteIdSchema, { maxItems: 500 })], {
        description: 'One or several sites (repeat the parameter); none: every site the user may see',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReportQuery = Static<typeof ReportQuerySchema>;

const Seconds = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

export const StatusSecondsSchema = Type.Object({
  online: Type.Number(),
  degraded: Type.Number(),
  offline: Type.Number(),
  unknown: Type.Number(),
});

export const ReportSchema = Type.Object({
  from: IsoTimeSchema,
  to: IsoTimeSchema,
  /** The sites the figures cover (those asked for, limited to the user's). */
  sites: Type.Array(SiteIdSchema),
  events: Type.Array(Type.Object({ site: SiteIdSchema, type: Type.String(), count: Type.Integer() }), {
    description: 'Incidents (event starts and single-shot events) by site and type',
  }),
  alerts: Type.Object({
    bySeverity: Type.Array(Type.Object({ site: SiteIdSchema, severity: Type.String(), count: Type.Integer() })),
    opened: Type.Integer(),
    acknowledged: Type.Integer(),
    resolved: Type.Integer(),
    autoResolved: Type.Integer(),
    falseAlarms: Type.Integer(),
    /** Share of alerts closed by a person that were false alarms (null when none was closed by a person). */
    falseAlarmShare: Type.Union([Type.Number(), Type.Null()]),
    escalated: Type.Integer(),
    ackSeconds: Type.Object({ median: Seconds('median time to acknowledge'), p90: Seconds('90th percentile') }),
    resolveSeconds: Type.Object({ median: Seconds('median time to resolve'), p90: Seconds('90th percentile') }),
  }),
  uptime: Type.Object({
    bySite: Type.Array(
      Type.Object({
        site: SiteIdSchema,
        cameras: Type.Integer(),
        seconds: StatusSecondsSchema,
        /** (online + degraded) / observed time; time nobody could observe (unknown) is left out. */
        uptimePct: Type.Union([Type.Number(), Type.Null()]),
        offlineHours: Type.Number(),
      }),
    ),
    worstCameras: Type.Array(
      Type.Object({
        site: SiteIdSchema,
        camera: CameraIdSchema,
        name: Type.Union([Type.String(), Type.Null()]),
        uptimePct: Type.Number(),
        offlineHours: Type.Number(),
      }),
      { description: 'The ten cameras with the lowest uptime over the period' },
    ),
  }),
});
export type Report = Static<typeof ReportSchema>;
