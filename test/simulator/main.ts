import { parseArgs } from 'node:util';
import { InvalidSimulatorOptionsError, startSimulator, type SimulatorOptions } from './index.js';

const USAGE = `Usage: npm run sim -- --cameras N --base-port P [--host 127.0.0.1] [--rtsp-port R] [--no-rtsp]
       [--no-discovery] [--username admin] [--password camhub-sim] [--id-prefix sim-cam] [--quiet]`;

function parseIntegerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new InvalidSimulatorOptionsError(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

function readOptions(): SimulatorOptions & { quiet: boolean } {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string' },
      'base-port': { type: 'string' },
      host: { type: 'string' },
      'rtsp-port': { type: 'string' },
      'no-rtsp': { type: 'boolean', default: false },
      'no-discovery': { type: 'boolean', default: false },
      username: { type: 'string' },
      password: { type: 'string' },
      'id-prefix': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const cameras = parseIntegerOption('cameras', values.cameras);
  const basePort = parseIntegerOption('base-port', values['base-port']);
  if (cameras === undefined || basePort === undefined) {
    throw new InvalidSimulatorOptionsError(`--cameras and --base-port are required\n${USAGE}`);
  }
  const rtspPort = parseIntegerOption('rtsp-port', values['rtsp-port']);
  return {
    cameras,
    basePort,
    host: values.host,
    username: values.username,
    password: values.password,
    idPrefix: values['id-prefix'],
    rtsp: values['no-rtsp'] ? false : rtspPort !== undefined ? { port: rtspPort } : true,
    discovery: !values['no-discovery'],
    quiet: values.quiet,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const log = options.quiet ? undefined : (message: string) => console.error(`[sim] ${message}`);
  const simulator = await startSimulator({ ...options, log });
  const rows = [['ID', 'ONVIF device service', 'RTSP', 'SNAPSHOT', 'USER', 'PASSWORD']];
  for (const camera of simulator.cameras) {
    rows.push([
      camera.id,
      camera.deviceServiceUrl,
      camera.rtspUrl ?? '-',
      camera.snapshotUrl,
      camera.username,
      camera.password,
    ]);
  }
  console.log(table(rows));
  if (!simulator.rtspAvailable) console.log(`\nRTSP streams are OFF: ${simulator.rtspUnavailableReason}`);
  const first = simulator.cameras[0]!;
  console.log(
    `\nControl: curl -XPOST -d '{"active":true}' http://${first.host}:${first.port}/sim/motion` +
      ` | /sim/tamper | /sim/input | /sim/fault {"mode":"hang"} | GET /sim/state` +
      `\n${simulator.cameras.length} camera(s) running; Ctrl-C to stop.`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulator...`);
    simulator.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`simulator close failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(error instanceof InvalidSimulatorOptionsError ? error.message : (error.stack ?? error.message));
  process.exit(1);
});
