import { HUB_MQTT_USER, mosquittoVersion, ProductionMosquitto } from '../../support/mosquitto.js';

export { HUB_MQTT_USER };

export interface BenchBroker {
  url: string;
  port: number;
  pid: number;
  version: string;
  /** Password of the hub user and of each site (user name = site id), as the production ACL expects. */
  hubPassword: string;
  sitePassword: (site: string) => string;
  stop: () => Promise<void>;
}

/**
 * A private Mosquitto with the production configuration (limits, ACL, password auth; test/support/mosquitto.ts),
 * so results do not depend on the machine's stock broker (max_queued_messages 1000...).
 */
export async function startBenchBroker(sites: string[]): Promise<BenchBroker> {
  const broker = await ProductionMosquitto.start(sites);
  return {
    url: broker.url,
    port: broker.port,
    pid: broker.pid!,
    version: mosquittoVersion(),
    hubPassword: broker.hubPassword,
    sitePassword: (site) => broker.password(site),
    stop: async () => {
      await broker.stop();
      await broker.remove();
    },
  };
}
