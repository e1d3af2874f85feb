import { connect, type Socket } from 'node:net';

/**
 * A slow client: sends `head`, then `body` one byte every `everyMs`, and
 * resolves with what the server answered once the connection closes.
 * Bounded: a server that never cuts the client ends the trickle after the body.
 */
export function trickle(
  port: number,
  head: string,
  body: string,
  everyMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < body.length && socket.writable) socket.write(body[sent++] ?? '');
        else if (sent >= body.length) socket.end();
      }, everyMs);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
    socket.on('error', () => {});
  });
}

/** A connection that sends nothing; resolves once connected, or once dropped. */
export function idleConnection(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    // Flowing, so the server's FIN is read (and the socket closed) even though nobody reads
    // it: a paused socket on Node 26 sometimes stayed in CLOSE-WAIT, seen as never closed.
    socket.resume();
    socket.on('error', () => resolve(socket));
    socket.on('close', () => resolve(socket));
  });
}
