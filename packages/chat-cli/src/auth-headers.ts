/** The headers that carry hrchat's API key (HRSERVE_API_KEY / --api-key), none without one. */
export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}
