import { afterEach, describe, expect, it, vi } from 'vitest';
import { Health } from './plugins/health.js';
import {
  EXTEND_BY_MS,
  EXTEND_EVERY_MS,
  reportReadinessToSystemd,
  STALLED_AFTER_MS,
} from './readiness-notify.js';
import { systemdNotifier } from './systemd-notify.js';

function recordingNotifier() {
  const sent: string[][] = [];
  const notifier = systemdNotifier(
    { NOTIFY_SOCKET: '/run/user/1000/systemd/notify' },
    { send: async (assignments) => void sent.push(assignments) },
  );
  return { sent, notifier };
}

afterEach(() => vi.useRealTimers());

describe('reportReadinessToSystemd', () => {
  it('says loading while the model loads, READY=1 once ok, STOPPING=1 on drain', async () => {
    const health = new Health();
    const { sent, notifier } = recordingNotifier();
    health.set('loading', 'loading stories260K');
    reportReadinessToSystemd(health, notifier, {
      url: 'http://127.0.0.1:2020',
      startupTimeoutMs: 60_000,
    });
    health.set('ok');
    health.set('draining');
    await notifier.flush();
    expect(sent).toEqual([
      ['STATUS=loading: loading stories260K'],
      ['READY=1', 'STATUS=serving on http://127.0.0.1:2020', `MAINPID=${process.pid}`],
      ['STOPPING=1', 'STATUS=draining: finishing in-flight requests'],
    ]);
  });

  it('extends the start timeout while loading, up to the startup timeout, and not once ready', async () => {
    vi.useFakeTimers();
    const health = new Health();
    const { sent, notifier } = recordingNotifier();
    health.set('loading', 'downloading');
    reportReadinessToSystemd(health, notifier, {
      url: 'http://127.0.0.1:2020',
      startupTimeoutMs: EXTEND_EVERY_MS * 3,
    });
    await vi.advanceTimersByTimeAsync(EXTEND_EVERY_MS * 5);
    await notifier.flush();
    const extensions = sent.filter(([first]) => first?.startsWith('EXTEND_TIMEOUT_USEC='));
    // At 30 s and 60 s; at 90 s the startup timeout is reached and systemd's own timeout applies.
    expect(extensions).toEqual([
      [`EXTEND_TIMEOUT_USEC=${EXTEND_BY_MS * 1000}`],
      [`EXTEND_TIMEOUT_USEC=${EXTEND_BY_MS * 1000}`],
    ]);
  });

  it('extends only while the status changes: a start stalled for minutes gets no more time', async () => {
    vi.useFakeTimers();
    const health = new Health();
    const { sent, notifier } = recordingNotifier();
    health.set('loading', 'downloading 1%');
    reportReadinessToSystemd(health, notifier, {
      url: 'http://x',
      startupTimeoutMs: 3_600_000,
      now: () => Date.now(),
    });
    const extensions = () =>
      sent.filter(([first]) => first?.startsWith('EXTEND_TIMEOUT_USEC=')).length;
    // Stalled: extensions until STALLED_AFTER_MS has passed without a change, then none.
    await vi.advanceTimersByTimeAsync(STALLED_AFTER_MS + EXTEND_EVERY_MS * 3);
    const whileStalled = extensions();
    expect(whileStalled).toBe(Math.ceil(STALLED_AFTER_MS / EXTEND_EVERY_MS) - 1);
    // Progress again: extensions again.
    health.set('loading', 'downloading 2%');
    await vi.advanceTimersByTimeAsync(EXTEND_EVERY_MS);
    await notifier.flush();
    expect(extensions()).toBe(whileStalled + 1);
  });

  it('stops extending once ready', async () => {
    vi.useFakeTimers();
    const health = new Health();
    const { sent, notifier } = recordingNotifier();
    reportReadinessToSystemd(health, notifier, { url: 'http://x', startupTimeoutMs: 3_600_000 });
    health.set('ok');
    await vi.advanceTimersByTimeAsync(EXTEND_EVERY_MS * 4);
    await notifier.flush();
    expect(sent.some(([first]) => first?.startsWith('EXTEND_TIMEOUT_USEC='))).toBe(false);
  });

  it('does nothing outside a Type=notify unit', async () => {
    const health = new Health();
    const sent: string[][] = [];
    const notifier = systemdNotifier(
      {},
      { send: async (assignments) => void sent.push(assignments) },
    );
    reportReadinessToSystemd(health, notifier, { url: 'http://x', startupTimeoutMs: 1 });
    health.set('ok');
    await notifier.flush();
    expect(sent).toEqual([]);
  });
});

describe('systemdNotifier', () => {
  it('reads NOTIFY_SOCKET once and keeps it from other children, handing it to systemd-notify only', async () => {
    const env: Record<string, string | undefined> = {
      NOTIFY_SOCKET: '/run/user/1000/systemd/notify',
    };
    const sockets: string[] = [];
    const notifier = systemdNotifier(env, {
      send: async (_assignments, socket) => void sockets.push(socket),
    });
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    notifier.status('loading');
    await notifier.flush();
    expect(sockets).toEqual(['/run/user/1000/systemd/notify']);
  });

  it('keeps STATUS on one line and reports a failing sender once', async () => {
    const errors: Error[] = [];
    const sent: string[][] = [];
    const notifier = systemdNotifier(
      { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' },
      {
        send: async (assignments) => {
          sent.push(assignments);
          throw new Error('systemd-notify: not found');
        },
        onError: (error) => errors.push(error),
      },
    );
    notifier.status('loading\nmodel 40%');
    notifier.status('loading model 50%');
    await notifier.flush();
    expect(sent).toEqual([['STATUS=loading model 40%'], ['STATUS=loading model 50%']]);
    expect(errors.map((error) => error.message)).toEqual(['systemd-notify: not found']);
  });
});
