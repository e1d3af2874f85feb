import { defineError } from 'hrserve';

/** The console's own errors, beside the runtime's catalogue. */
export const consoleErrors = {
  /** A service the console names but that does not answer (down, or not started). */
  serviceUnreachable: defineError('service_unreachable', 502, 'server_error'),
  unknownService: defineError('unknown_service', 404, 'not_found_error'),
};
