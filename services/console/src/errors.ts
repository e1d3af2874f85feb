import { defineError } from 'hrserve';

/** The console's own errors, beside the runtime's catalogue. */
export const consoleErrors = {
  /** A service the console names but that does not answer (down, or not started). */
  serviceUnreachable: defineError('service_unreachable', 502, 'server_error'),
  unknownService: defineError('unknown_service', 404, 'not_found_error'),
  /** A service refused the console's key (CONSOLE_SERVICE_API_KEY is not one of its keys). */
  serviceAuthFailed: defineError('service_auth_failed', 502, 'server_error'),
  /** The Host header names the console otherwise than it is known (DNS rebinding). */
  unknownHost: defineError('unknown_host', 421, 'invalid_request_error'),
  /** A state-changing request a browser sent from another site. */
  crossSite: defineError('cross_site_request', 403, 'invalid_request_error'),
  /** Too many wrong keys from one address. */
  tooManyLogins: defineError('too_many_logins', 429, 'rate_limit_error'),
};
