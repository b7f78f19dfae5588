import { randomUUID } from 'node:crypto';

/** A short unique token for names that must not collide between test files running at once. */
export function uniqueToken(): string {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

/** A topic root of its own per test file, so parallel files never see each other's messages. */
export function uniqueTopicRoot(): string {
  return `test-${uniqueToken()}/camhub/v1`;
}

/** A BullMQ prefix per test file; cleaned by the test that made it. */
export function uniqueQueuePrefix(): string {
  return `camhub-test-${uniqueToken()}`;
}
