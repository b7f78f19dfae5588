import type { SimCamera } from '@camhub/simulator';
import type { DemoCamera, DemoSite } from './layout.js';
import type { LinkProxy } from './link-proxy.js';

/** One cycle of the script, in seconds; it then repeats. */
export const CYCLE_SEC = 240;
/** When night falls in the cycle (motion almost stops; the intrusion follows 20 s later). */
const NIGHT_AT = 160;

export interface ScenarioContext {
  sites: DemoSite[];
  camera(simIndex: number): SimCamera;
  links: Map<string, LinkProxy>;
  /** null when streams exist; otherwise why not (the frozen-stream step is then skipped). */
  rtspUnavailable: string | null;
  say(line: string): void;
  curl(path: string): string;
}

type Phase = 'day' | 'night';

/** Motion starts per camera per minute, by kind of site and time of day. */
const MOTION_PER_MINUTE: Record<Phase, Record<DemoSite['kind'], number>> = {
  day: { market: 6, school: 3, residential: 1.5, clinic: 2 },
  night: { market: 0.5, school: 0, residential: 0.3, clinic: 0.5 },
};

interface Step {
  at: number;
  run(): void;
}

export interface ScenarioRoles {
  tamper: DemoCamera;
  freeze: DemoCamera;
  offline: DemoCamera;
  intrusion: DemoCamera;
  linkSite: DemoSite;
}

/** Gives each scripted incident its own camera where there are enough, preferring the ones whose names fit. */
export function chooseRoles(sites: DemoSite[]): ScenarioRoles {
  const all = sites.flatMap((s) => s.cameras);
  const used = new Set<DemoCamera>();
  const pick = (...preferred: (DemoCamera | undefined)[]): DemoCamera => {
    const choice =
      preferred.find((c) => c && !used.has(c)) ?? all.find((c) => !used.has(c)) ?? all[used.size % all.length]!;
    used.add(choice);
    return choice;
  };
  const ofKind = (kind: DemoSite['kind']) => sites.find((s) => s.kind === kind)?.cameras ?? [];
  const intrusion = pick(ofKind('school')[1], ofKind('school')[0]);
  const tamper = pick(ofKind('residential')[0]);
  const freeze = pick(ofKind('residential')[1], ofKind('market')[0]);
  const offline = pick(ofKind('market')[1], ofKind('residential')[2]);
  return { tamper, freeze, offline, intrusion, linkSite: sites[sites.length - 1]! };
}

const label = (c: DemoCamera) => `${c.site}/${c.id} "${c.name}"`;

/**
 * The scripted story that makes the demo show what camhub is for. One cycle: a day with motion at rates that differ
 * by place, a tamper alarm, a frozen stream, a camera that drops off the network and returns, a site whose uplink
 * fails for a minute (its agent buffers, then catches up), night with little motion and an intrusion at the school.
 */
export class Scenario {
  private readonly timers = new Set<NodeJS.Timeout>();
  private phase: Phase = 'day';
  private readonly motionUntil = new Map<number, number>();
  private motionTicker: NodeJS.Timeout | null = null;
  private cycleStart = 0;
  private cycle = 0;
  readonly roles: ScenarioRoles;

  constructor(private readonly ctx: ScenarioContext) {
    this.roles = chooseRoles(ctx.sites);
  }

  /** `atSec`: begin the first cycle that far in (the steps before it are skipped once; the cycles after are whole). */
  start(atSec = 0): void {
    this.motionTicker = setInterval(() => this.motionTick(), 1000);
    this.runCycle(atSec);
  }

  private after(sec: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, sec * 1000);
    this.timers.add(timer);
  }

  private say(text: string, look?: string): void {
    const elapsed = Math.round((Date.now() - this.cycleStart) / 1000);
    const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
    this.ctx.say(`[scenario ${this.cycle}·${clock}] ${text}${look ? `\n      look: ${look}` : ''}`);
  }

  private runCycle(atSec = 0): void {
    this.cycle += 1;
    this.cycleStart = Date.now() - atSec * 1000;
    this.phase = atSec >= NIGHT_AT ? 'night' : 'day';
    for (const step of this.steps()) if (step.at >= atSec) this.after(step.at - atSec, () => step.run());
    this.after(CYCLE_SEC - atSec, () => this.runCycle());
  }

  private steps(): Step[] {
    const { tamper, freeze, offline, intrusion, linkSite } = this.roles;
    const ctx = this.ctx;
    const link = ctx.links.get(linkSite.id);
    return [
      {
        at: 0,
        run: () => {
          this.phase = 'day';
          this.say(
            'daytime: motion at every site, busiest at the market (~6 a minute per camera), quietest in the alleys',
            ctx.curl('/api/v1/events?limit=10'),
          );
        },
      },
      {
        at: 15,
        run: () => {
          this.say(
            `tamper alarm: someone turns ${label(tamper)} towards the wall`,
            ctx.curl('/api/v1/events?type=tamper'),
          );
          ctx.camera(tamper.simIndex).setTamper(true);
          this.after(8, () => ctx.camera(tamper.simIndex).setTamper(false));
        },
      },
      {
        at: 30,
        run: () => {
          if (ctx.rtspUnavailable) {
            this.say(`frozen stream on ${label(freeze)}: skipped, no RTSP streams here (${ctx.rtspUnavailable})`);
            return;
          }
          this.say(
            `the stream of ${label(freeze)} freezes on one picture for 100 s (ONVIF still answers: only a stream probe notices)`,
            ctx.curl(`/api/v1/cameras/${freeze.site}/${freeze.id}/health`),
          );
          ctx.camera(freeze.simIndex).setFault('freeze-stream');
          this.after(100, () => {
            this.say(`the stream of ${label(freeze)} moves again`);
            ctx.camera(freeze.simIndex).setFault('none');
          });
        },
      },
      {
        at: 50,
        run: () => {
          this.say(
            `${label(offline)} drops off the network (connection refused) for 60 s; its agent reports it unreachable`,
            ctx.curl('/api/v1/cameras?status=offline'),
          );
          ctx.camera(offline.simIndex).setFault('refuse');
          this.after(60, () => {
            this.say(
              `${label(offline)} answers again; the agent resubscribes and the hub marks it online`,
              ctx.curl(`/api/v1/cameras/${offline.site}/${offline.id}/transitions`),
            );
            ctx.camera(offline.simIndex).setFault('none');
          });
        },
      },
      {
        at: 75,
        run: () => {
          if (!link) return;
          this.say(
            `site ${linkSite.id} loses its uplink for 60 s: its agent keeps every event in its outbox on disk`,
            ctx.curl(`/api/v1/cameras?site=${linkSite.id}`),
          );
          link.cut();
          this.after(60, () => {
            link.restore();
            this.say(
              `site ${linkSite.id} is back online: the agent delivers what it buffered, with the original times`,
              ctx.curl(`/api/v1/events?site=${linkSite.id}&limit=20`),
            );
          });
        },
      },
      {
        at: NIGHT_AT,
        run: () => {
          this.phase = 'night';
          this.say('night falls: motion almost stops, the school is empty');
        },
      },
      {
        at: 180,
        run: () => {
          this.say(
            `night-time intrusion: a person enters the guarded field of ${label(intrusion)}`,
            ctx.curl('/api/v1/events?type=intrusion'),
          );
          const cam = ctx.camera(intrusion.simIndex);
          const source = { VideoSourceConfigurationToken: 'vsc_1', Rule: 'Night field' };
          cam.emit('tns1:RuleEngine/FieldDetector/ObjectsInside', { IsInside: 'true' }, { source });
          cam.setMotion(true);
          this.after(12, () => {
            cam.emit('tns1:RuleEngine/FieldDetector/ObjectsInside', { IsInside: 'false' }, { source });
            cam.setMotion(false);
          });
        },
      },
      {
        at: CYCLE_SEC - 10,
        run: () => this.say(`dawn: the script starts again in 10 s (one cycle is ${CYCLE_SEC / 60} minutes)`),
      },
    ];
  }

  /** Each second, each idle camera may start a short motion event, at its site's rate for the time of day. */
  private motionTick(): void {
    const now = Date.now();
    for (const site of this.ctx.sites) {
      const perSecond = MOTION_PER_MINUTE[this.phase][site.kind] / 60;
      for (const camera of site.cameras) {
        const until = this.motionUntil.get(camera.simIndex);
        if (until !== undefined) {
          if (now >= until) {
            this.motionUntil.delete(camera.simIndex);
            this.ctx.camera(camera.simIndex).setMotion(false);
          }
          continue;
        }
        if (Math.random() < perSecond) {
          this.motionUntil.set(camera.simIndex, now + 2000 + Math.random() * 6000);
          this.ctx.camera(camera.simIndex).setMotion(true);
        }
      }
    }
  }

  /** Cancels what is pending and leaves cameras and links healthy (stopping cleanly, not mid-incident). */
  stop(): void {
    if (this.motionTicker) clearInterval(this.motionTicker);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const link of this.ctx.links.values()) link.restore();
  }
}
