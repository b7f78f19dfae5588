import fp from 'fastify-plugin';

/**
 * What happens after a batch is committed: announce new events, and re-decide the status of every camera the batch
 * said something about (health, status) or whose agent changed state. Runs in the worker that wrote the batch.
 */
export default fp(
  async (app) => {
    app.container.afterStore.push(async (stored) => {
      if (stored.newEvents.length > 0) {
        app.container.bus.emit(
          'events.stored',
          stored.newEvents.map((m) => ({ ...m.payload, receivedAt: m.receivedAt })),
        );
      }
      const cameras = new Map<string, { site: string; camera: string }>();
      const sites = new Map<string, { agent: string; state: 'online' | 'offline'; at: string }>();
      for (const m of stored.accepted) {
        if (m.kind === 'health' || m.kind === 'status') {
          cameras.set(`${m.payload.site}/${m.payload.camera}`, { site: m.payload.site, camera: m.payload.camera });
        } else if (m.kind === 'agent') {
          sites.set(m.payload.site, { agent: m.payload.agent, state: m.payload.state, at: m.receivedAt });
        }
      }
      if (cameras.size > 0) await app.container.services.status.reconcile([...cameras.values()]);
      for (const [site, s] of sites) {
        await app.container.services.status.reconcileSite(site);
        app.container.bus.emit('agent.state', { site, agent: s.agent, state: s.state, at: s.at });
      }
    });
  },
  { name: 'followers', dependencies: ['ingest'] },
);
