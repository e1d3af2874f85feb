import { baseConfigSchema, envDuration, envList } from 'hrserve';
import { z } from 'zod';

/** The console's settings: the shared ones plus its own, each described. */
export const consoleConfigSchema = baseConfigSchema({ name: 'console', port: 2022 })
  .extend({
    CONSOLE_SERVICES: envList(
      z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected service names like llmchat'),
    )
      .optional()
      .describe(
        'Comma-separated services the console shows and reaches (default: every service of the port table but itself).',
      ),
    CONSOLE_SERVICE_API_KEY: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The key the console sends to the services when they have API_KEYS (default: the console's own first API key). Browsers never see it.",
      ),
    CONSOLE_TRACE_URL: z
      .string()
      .regex(/^https?:\/\/.*\{trace_id\}/, 'expected an http(s) URL with {trace_id} in it')
      .optional()
      .describe(
        'A trace UI link with {trace_id} in it, e.g. http://127.0.0.1:16686/trace/{trace_id} (Jaeger); each answer in the chat then links to its trace.',
      ),
    CONSOLE_WEB_ROOT: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Serve the browser app from this directory instead of the one built beside the server (dist/web), e.g. another build to compare.',
      ),
    CONSOLE_SESSION_TTL: envDuration(
      'How long a login lasts without use, with API_KEYS set (default 12h).',
      '12h',
    ),
    CONSOLE_SAMPLE_INTERVAL: envDuration(
      "How often the console reads each service's /metrics for its charts (default 5s).",
      '5s',
    ),
    CONSOLE_HOSTS: envList(
      z.string().regex(/^[\w.:[\]-]+$/, 'expected host names like console.lan'),
    )
      .optional()
      .describe(
        'Comma-separated host names browsers may reach the console by, besides localhost, 127.0.0.1 and [::1] (the Host header; a page of another name is refused, so a DNS-rebinding site cannot use it). Default: any name when HOST is not a loopback address.',
      ),
  })
  // Without a login, anyone reaching the console would act with the services' key.
  .refine((config) => !config.CONSOLE_SERVICE_API_KEY || config.API_KEYS.length > 0, {
    path: ['API_KEYS'],
    message:
      'required when CONSOLE_SERVICE_API_KEY is set: without a login, anyone who reaches the console would use the services with that key. Set API_KEYS for the console too.',
  });

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;
