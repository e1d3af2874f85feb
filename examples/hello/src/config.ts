import { baseConfigSchema } from 'hrserve';
import { z } from 'zod';

/** hello's settings: the shared ones plus its own, each described for the error message. */
export const helloConfigSchema = baseConfigSchema({ name: 'hello', port: 2099 }).extend({
  HELLO_GREETING: z
    .string()
    .min(1)
    .default('Hello')
    .describe('Word the greeting starts with (default Hello).'),
  HELLO_UPSTREAM_URL: z
    .url()
    .optional()
    .describe('Base URL of another hello that /v1/relay calls, e.g. http://127.0.0.1:2098.'),
});

export type HelloConfig = z.infer<typeof helloConfigSchema>;
