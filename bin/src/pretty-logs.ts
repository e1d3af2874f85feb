/**
 * JSON log lines on stdin, readable lines on stdout (colours on a terminal): the viewer
 * behind `just logs <service>`, as `journalctl --user -u <service> -o cat -f | …`.
 */
import { prettifyLines } from './pretty-lines.js';

// The reader went away (`| head`, `q` in a pager): stop quietly, not with an EPIPE stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
await prettifyLines(process.stdin, (text) => process.stdout.write(text));
