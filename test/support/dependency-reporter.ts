import type { Reporter, SerializedError, TestModule } from 'vitest/node';
import { MISSING_DEPENDENCY } from './dependencies.js';

/**
 * Ends every run with the plain tally CI reads ("N passed, N failed, N skipped") and, above it, every test that was
 * skipped because something was not installed, so that a local run without ffmpeg or Chromium cannot look green by
 * accident. (Under CI=true such tests fail instead: test/support/dependencies.ts.)
 */
export default class DependencyReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    // An error outside any test (a global setup, an unhandled rejection) fails the run: count it, never print 0.
    let failed = unhandledErrors.length;
    let skipped = 0;
    const missing: string[] = [];
    for (const module of testModules) {
      // A module that failed with no failed test failed outside them (a suite hook, its import): its tests show as
      // skipped, so the failure itself must be counted.
      const tests = [...module.children.allTests()];
      if (module.state() === 'failed' && !tests.some((t) => t.result().state === 'failed')) failed++;
      for (const test of tests) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failed++;
        else if (result.state === 'skipped') {
          skipped++;
          if (result.note?.startsWith(MISSING_DEPENDENCY)) missing.push(`  ${test.fullName} — ${result.note}`);
        }
      }
    }
    if (missing.length > 0) {
      const bar = '!'.repeat(100);
      process.stdout.write(
        `\n${bar}\n${missing.length} test(s) SKIPPED because a dependency is missing on this machine ` +
          `(run scripts/ensure-env.sh; under CI=true they fail):\n${missing.join('\n')}\n${bar}\n`,
      );
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
