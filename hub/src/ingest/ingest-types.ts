import type { AgentStatus, CameraEvent, CameraStatus, EventClip, HealthSample, RejectionReason } from '@camhub/shared';

/** One accepted message as it travels through the queue: the payload plus when the hub received it. */
export type AcceptedMessage =
  | { kind: 'events'; receivedAt: string; payload: CameraEvent }
  | { kind: 'health'; receivedAt: string; payload: HealthSample }
  | { kind: 'status'; receivedAt: string; payload: CameraStatus }
  | { kind: 'agent'; receivedAt: string; payload: AgentStatus }
  | { kind: 'clips'; receivedAt: string; payload: EventClip };

export interface Rejection {
  topic: string;
  reason: RejectionReason;
  detail: string;
  receivedAt: string;
  payload: string;
  payloadBytes: number;
  truncated: boolean;
}

/** The data of one BullMQ ingest job: a short batch of messages, written to PostgreSQL in one transaction. */
export interface IngestBatch {
  accepted: AcceptedMessage[];
  rejected: Rejection[];
}

export interface IngestResult {
  events: number;
  eventsInserted: number;
  health: number;
  status: number;
  agent: number;
  clips: number;
  rejected: number;
}
