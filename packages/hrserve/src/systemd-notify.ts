import { execFile } from 'node:child_process';

/**
 * sd_notify(3) for a service whose unit is `Type=notify`: READY=1 once it
 * serves, STATUS= lines while it starts (shown by `systemctl status`),
 * EXTEND_TIMEOUT_USEC= while a long start still makes progress, STOPPING=1
 * when it drains.
 *
 * Node has no AF_UNIX datagram sockets, so each message goes through
 * systemd-notify(1), which ships with systemd wherever NOTIFY_SOCKET is set.
 * It waits (BARRIER=1, systemd ≥ 246) until the manager has read the message,
 * so the manager can still tell which unit the short-lived sender belongs to;
 * the unit says `NotifyAccess=all` so that a child may speak for the service.
 */
export interface SystemdNotifier {
  /** False outside a `Type=notify` unit (no NOTIFY_SOCKET): every call is a no-op. */
  readonly enabled: boolean;
  ready(status: string): void;
  status(status: string): void;
  /** Asks the manager for `ms` more from now before the start (or stop) times out. */
  extendTimeout(ms: number): void;
  stopping(status: string): void;
  /** Resolves once every message sent so far was delivered (or failed). */
  flush(): Promise<void>;
}

/** Sends one message (`NAME=value` assignments) to `socket`; rejects when it could not be delivered. */
export type NotifySender = (assignments: string[], socket: string) => Promise<void>;

/** Generous: the barrier waits for a manager that may be busy starting other units. */
const SEND_TIMEOUT_MS = 10_000;

export const systemdNotifySender: NotifySender = (assignments, socket) =>
  new Promise((resolve, reject) => {
    execFile(
      'systemd-notify',
      assignments,
      { timeout: SEND_TIMEOUT_MS, env: { ...process.env, NOTIFY_SOCKET: socket } },
      (error, _out, stderr) =>
        error
          ? reject(new Error(`${error.message.split('\n', 1)[0]} ${stderr}`.trim()))
          : resolve(),
    );
  });

/** One line: newlines would end the assignment and start another. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

export function systemdNotifier(
  env: Record<string, string | undefined> = process.env,
  options: { send?: NotifySender; onError?: (error: Error) => void } = {},
): SystemdNotifier {
  const socket = env.NOTIFY_SOCKET ?? '';
  const enabled = socket !== '';
  // Read once and kept from every other child (NotifyAccess=all lets any process in the
  // unit speak for it): only systemd-notify gets it back.
  delete env.NOTIFY_SOCKET;
  const send = options.send ?? systemdNotifySender;
  let reportedError = false;
  // Sent one after another, so the manager sees them in order (READY before STOPPING).
  let queue = Promise.resolve();
  const post = (assignments: string[]) => {
    if (!enabled) return;
    queue = queue.then(() =>
      send(assignments, socket).catch((error: Error) => {
        // One report is enough: the next messages would fail the same way.
        if (!reportedError) options.onError?.(error);
        reportedError = true;
      }),
    );
  };
  return {
    enabled,
    ready: (status) => post(['READY=1', `STATUS=${oneLine(status)}`, `MAINPID=${process.pid}`]),
    status: (status) => post([`STATUS=${oneLine(status)}`]),
    extendTimeout: (ms) => post([`EXTEND_TIMEOUT_USEC=${Math.round(ms * 1000)}`]),
    stopping: (status) => post(['STOPPING=1', `STATUS=${oneLine(status)}`]),
    flush: () => queue,
  };
}
