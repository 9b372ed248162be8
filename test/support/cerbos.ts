import { fileURLToPath } from 'node:url';
import { startCerbosPdp, type CerbosPdp } from 'nestjs-zero-trust/cerbos';
import { WHOLE_DAY } from '../../apps/demo-api/src/config.js';

/** The demo's Cerbos policies (with their policy tests). */
export const DEMO_POLICIES = fileURLToPath(
  new URL('../../apps/demo-api/cerbos/policies', import.meta.url),
);

/** The demo's reports window (`HH:MM-HH:MM` UTC) as the policies' globals, in minutes. */
export function reportsWindowGlobals(window: string = WHOLE_DAY): Record<string, number> {
  const [from = 0, to = 0] = window.split('-').map((hhmm) => {
    const [h = '0', m = '0'] = hhmm.split(':');
    return Number(h) * 60 + Number(m);
  });
  return { reportsFrom: from, reportsTo: to };
}

const running = new Map<string, Promise<CerbosPdp>>();

/**
 * A PDP with the demo's policies for this test file (one per reports window), stopped when the
 * worker exits. `POLICY_ENGINE=cerbos` makes every demo suite use one (see `startDemoApi`).
 */
export function demoPdp(window: string = WHOLE_DAY): Promise<CerbosPdp> {
  let pdp = running.get(window);
  if (pdp === undefined) {
    pdp = startCerbosPdp({ policies: DEMO_POLICIES, globals: reportsWindowGlobals(window) });
    running.set(window, pdp);
    void pdp.then((started) =>
      process.once('exit', () => {
        if (started.pid !== undefined) process.kill(started.pid, 'SIGTERM');
      }),
    );
  }
  return pdp;
}

/** Whether the demo suites run on Cerbos (`POLICY_ENGINE=cerbos`). */
export const onCerbos = process.env.POLICY_ENGINE === 'cerbos';
